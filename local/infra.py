"""Builds the template's stateful resources on moto, from `infra/template.yaml` itself.

Tests and the local runtime both call `create_resources`, so local and cloud cannot drift:
the table's keys, GSIs, stream and TTL, the queues with their redrive policies and the topic
all come from the template's properties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"


@dataclass(frozen=True)
class Intrinsic:
    tag: str
    value: Any


class TemplateLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form intrinsics (`!Ref`, `!Sub`, ...)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Intrinsic:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Intrinsic(tag_suffix, value)


TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=TemplateLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Resources:
    """What was created, by logical id, and how to reach it."""

    stage: str
    refs: dict[str, str] = field(default_factory=dict)  # !Ref value per logical id
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)  # !GetAtt values
    table_name: str = ""
    stream_arn: str = ""
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name

    def resolve(self, value: Any, parameters: dict[str, str] | None = None) -> Any:
        params = {
            "Stage": self.stage,
            "AWS::Region": "eu-west-1",
            "AWS::AccountId": "123456789012",
            **(parameters or {}),
        }
        if isinstance(value, Intrinsic):
            if value.tag == "Ref":
                return params.get(value.value, self.refs.get(value.value, value.value))
            if value.tag == "GetAtt":
                logical, attr = value.value.split(".", 1) if isinstance(value.value, str) else value.value
                return self.attrs[logical][attr]
            if value.tag == "Sub":
                text = value.value
                for key, val in {**params, **self.refs}.items():
                    text = text.replace("${" + key + "}", str(val))
                return text
            if value.tag == "Select":
                index, items = value.value
                return self.resolve(items, parameters)[int(index)]
            if value.tag == "Split":
                sep, text = value.value
                return self.resolve(text, parameters).split(sep)
            raise ValueError(f"unsupported intrinsic !{value.tag}")
        if isinstance(value, dict):
            return {k: self.resolve(v, parameters) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, parameters) for v in value]
        return value


def create_resources(session: Any, template: dict[str, Any] | None = None, stage: str = "local") -> Resources:
    """Creates every table, queue, bucket and topic of the template on the (moto) session."""
    from local import moto_fixes

    moto_fixes.install()  # cancelled transactions roll back in place; bounded shard iterators
    template = template or load_template()
    resources = Resources(stage=stage)
    items = template["Resources"]
    sqs = session.client("sqs")
    # Queues without a redrive policy first, so every dead-letter target exists.
    queues = sorted(
        (k for k, v in items.items() if v["Type"] == "AWS::SQS::Queue"),
        key=lambda k: "RedrivePolicy" in items[k].get("Properties", {}),
    )
    for logical in queues:
        props = resources.resolve(items[logical].get("Properties", {}))
        attributes = {
            key: (
                json.dumps(val) if key == "RedrivePolicy" else str(val).lower() if isinstance(val, bool) else str(val)
            )
            for key, val in props.items()
            if key
            in {
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "RedrivePolicy",
                "ReceiveMessageWaitTimeSeconds",
                "MaximumMessageSize",
                "FifoQueue",
                "ContentBasedDeduplication",
            }
        }
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resources.refs[logical] = url
        resources.attrs[logical] = {"Arn": arn, "QueueName": props["QueueName"]}
        resources.queues[logical] = url

    dynamodb = session.client("dynamodb")
    for logical, body in items.items():
        if body["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resources.resolve(body["Properties"])
        kwargs = {
            k: props[k]
            for k in (
                "TableName",
                "AttributeDefinitions",
                "KeySchema",
                "BillingMode",
                "GlobalSecondaryIndexes",
                "StreamSpecification",
            )
            if k in props
        }
        if "StreamSpecification" in kwargs:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **kwargs["StreamSpecification"]}
        description = dynamodb.create_table(**kwargs)["TableDescription"]
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(
                TableName=props["TableName"], TimeToLiveSpecification=props["TimeToLiveSpecification"]
            )
        resources.refs[logical] = props["TableName"]
        resources.attrs[logical] = {"Arn": description["TableArn"], "StreamArn": description.get("LatestStreamArn", "")}
        resources.table_name = props["TableName"]
        resources.stream_arn = description.get("LatestStreamArn", "")

    s3 = session.client("s3")
    for logical, body in items.items():
        if body["Type"] == "AWS::S3::Bucket":
            name = resources.resolve(body["Properties"])["BucketName"]
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            resources.refs[logical] = name
            resources.attrs[logical] = {"Arn": f"arn:aws:s3:::{name}"}
            resources.buckets[logical] = name

    sns = session.client("sns")
    for logical, body in items.items():
        if body["Type"] == "AWS::SNS::Topic":
            props = resources.resolve(body["Properties"])
            arn = sns.create_topic(Name=props["TopicName"])["TopicArn"]
            resources.refs[logical] = arn
            resources.attrs[logical] = {"TopicName": props["TopicName"]}
    return resources


def function_environment(
    template: dict[str, Any], resources: Resources, parameters: dict[str, str], overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """The Globals environment of the template, resolved; `overrides` replace secret references."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    defaults = {name: str(p["Default"]) for name, p in template.get("Parameters", {}).items() if "Default" in p}
    # The stage is the runtime's own (a name like the bucket's is spelled with it), not the template default.
    given = {**defaults, "Stage": resources.stage, **parameters}
    env = {k: str(resources.resolve(v, given)) for k, v in variables.items()}
    env.update(overrides or {})
    return env


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Serverless functions by logical id, with their folder name (e.g. 'sender')."""
    found = {}
    for logical, body in template["Resources"].items():
        if body["Type"] == "AWS::Serverless::Function":
            props = body["Properties"]
            folder = Path(props["CodeUri"]).name
            found[logical] = {"folder": folder, "events": props.get("Events", {}), "props": props}
    return found

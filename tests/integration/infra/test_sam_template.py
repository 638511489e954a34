"""The SAM template's structure: what cfn-lint cannot know about our layout and our rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from local.infra import ROOT, Intrinsic, functions, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = functions(TEMPLATE)


def test_globals_target_python312_on_arm64_with_tracing_and_json_logs():
    glob = TEMPLATE["Globals"]["Function"]
    assert glob["Runtime"] == "python3.12"
    assert glob["Architectures"] == ["arm64"]
    assert glob["Tracing"] == "Active"
    assert glob["LoggingConfig"]["LogFormat"] == "JSON"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"} <= set(glob["Environment"]["Variables"])


def test_every_function_is_a_folder_with_app_py_and_a_sample_event():
    assert {f["folder"] for f in FUNCTIONS.values()} == {
        "webhook",
        "api",
        "tagger",
        "metrics",
        "dispatcher",
        "sender",
        "scheduler",
        "imports",
        "import_worker",
    }
    for logical, fn in FUNCTIONS.items():
        assert fn["props"]["CodeUri"] == f"../functions/{fn['folder']}/", logical
        assert (ROOT / "functions" / fn["folder"] / "app.py").is_file(), logical
        assert list((ROOT / "events" / fn["folder"]).glob("*.json")), f"no events/{fn['folder']}/*.json"


def test_layer_is_built_by_makefile_from_a_path_relative_to_the_template(tmp_path: Path):
    layer = RESOURCES["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "../layers/common/"
    assert (ROOT / "infra" / layer["Properties"]["ContentUri"] / "requirements.txt").resolve().is_file()
    # The artifact must hold python/engage (what Lambda mounts at /opt/python), never python/python.
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "layers/common"), "copy-code", f"ARTIFACTS_DIR={tmp_path}"], check=True
    )
    assert (tmp_path / "python" / "engage" / "__init__.py").is_file()
    assert not (tmp_path / "python" / "python").exists()
    makefile = (ROOT / "layers/common/Makefile").read_text()
    assert re.search(r"^build-CommonLayer:", makefile, re.M)


def _walk(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    elif isinstance(value, Intrinsic):
        yield from _walk(value.value)
    else:
        yield value


# ---------------------------------------------------------------- permissions

# The only actions allowed on Resource "*": X-Ray has no resource-level permissions for them.
STAR_ONLY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SECRET_PARAMETERS = {
    "whatsapp/app-secret",
    "whatsapp/verify-token",
    "whatsapp/access-token",
    "events/webhook-secret",
    "meta/conversions-token",
}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _role_of(fn) -> str:
    role = fn["props"]["Role"]
    assert isinstance(role, Intrinsic) and role.tag == "GetAtt" and role.value.endswith(".Arn")
    return role.value.removesuffix(".Arn")


def _statements(logical: str):
    """Every statement a function's role grants: its inline policies and the managed policies it attaches."""
    props = RESOURCES[logical]["Properties"]
    for policy in props.get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]
    for arn in props.get("ManagedPolicyArns", []):
        assert isinstance(arn, Intrinsic) and arn.tag == "Ref", f"{logical} attaches a policy we do not define: {arn}"
        yield from RESOURCES[arn.value]["Properties"]["PolicyDocument"]["Statement"]


def _granted(logical: str, action: str) -> list:
    return [r for s in _statements(logical) if action in _as_list(s["Action"]) for r in _as_list(s["Resource"])]


def _getatt(resource, attr: str = "Arn") -> str | None:
    if isinstance(resource, Intrinsic) and resource.tag == "GetAtt" and resource.value.endswith("." + attr):
        return resource.value.removesuffix("." + attr)
    return None


def test_every_function_has_a_role_of_its_own_that_sam_does_not_widen():
    roles = {logical: _role_of(fn) for logical, fn in FUNCTIONS.items()}
    assert len(set(roles.values())) == len(roles), "two functions share a role"
    for logical, role in roles.items():
        assert RESOURCES[role]["Type"] == "AWS::IAM::Role", logical
        assert "Policies" not in FUNCTIONS[logical]["props"], f"{logical}: SAM ignores Policies next to Role"


def _iam_statements(resources):
    for logical, body in resources.items():
        props = body.get("Properties", {})
        if body["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield logical, statement
        elif body["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for statement in props["PolicyDocument"]["Statement"]:
                yield logical, statement


def test_no_statement_grants_every_resource_except_where_aws_requires_it():
    found = 0
    for logical, statement in _iam_statements(RESOURCES):
        found += 1
        actions = set(_as_list(statement["Action"]))
        assert not any(a == "*" or a.endswith(":*") for a in actions), (logical, actions)
        if "*" in _as_list(statement["Resource"]):
            assert actions <= STAR_ONLY_ACTIONS, (logical, actions)
    assert found >= 10


def _transformed() -> dict:
    """The template as CloudFormation receives it, after the SAM transform (cfn-lint's copy of it)."""
    from cfnlint.decode import decode
    from cfnlint.template.transforms._sam import Transform

    path = ROOT / "infra" / "template.yaml"
    template, matches = decode(str(path))
    assert not matches
    transform = Transform(str(path), template, "eu-west-1")
    assert not transform.transform_template()
    return transform.template()


def test_after_the_sam_transform_no_role_carries_an_aws_managed_policy_or_a_star():
    """SAM attaches AWSLambdaSQSQueueExecutionRole / AWSLambdaDynamoDBExecutionRole (every queue and
    stream in the account) to the roles it generates; the roles it still generates (the schedules')
    and ours must stay scoped."""
    resources = _transformed()["Resources"]
    roles = [k for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"]
    assert len(roles) >= len(FUNCTIONS) + 6
    for logical in roles:
        for arn in resources[logical]["Properties"].get("ManagedPolicyArns", []):
            assert isinstance(arn, dict) and "Ref" in arn, f"{logical} attaches {arn}"
    for logical, statement in _iam_statements(resources):
        if "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= STAR_ONLY_ACTIONS, (logical, statement)


def _is_table_or_index(resource) -> bool:
    return _getatt(resource) == "EngageTable" or (
        isinstance(resource, Intrinsic) and resource.value == "${EngageTable.Arn}/index/*"
    )


def test_queue_and_stream_permissions_name_our_own_queues_and_the_table_stream():
    queues = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"}
    for logical, fn in FUNCTIONS.items():
        for statement in _statements(_role_of(fn)):
            resources = _as_list(statement["Resource"])
            for action in _as_list(statement["Action"]):
                if action.startswith("sqs:"):
                    assert all(_getatt(r) in queues for r in resources), (logical, action)
                elif action == "dynamodb:ListStreams":
                    assert resources == [Intrinsic("Sub", "${EngageTable.Arn}/stream/*")], logical
                elif action.startswith("dynamodb:"):
                    assert all(_getatt(r, "StreamArn") == "EngageTable" or _is_table_or_index(r) for r in resources)


def test_each_event_source_is_granted_on_exactly_its_own_queue_or_stream():
    for logical, fn in FUNCTIONS.items():
        role = _role_of(fn)
        senders_to = {_getatt(r) for r in _granted(role, "sqs:SendMessage")}
        for event in fn["events"].values():
            props = event.get("Properties", {})
            if event["Type"] == "SQS":
                queue = props["Queue"].value.removesuffix(".Arn")
                for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                    assert [_getatt(r) for r in _granted(role, action)] == [queue], (logical, action)
            if event["Type"] == "DynamoDB":
                for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
                    assert [_getatt(r, "StreamArn") for r in _granted(role, action)] == ["EngageTable"], logical
                assert _getatt(props["DestinationConfig"]["OnFailure"]["Destination"]) in senders_to, logical
        invoke = fn["props"].get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
        if invoke:
            assert _getatt(invoke["Destination"]) in senders_to, logical


def _parameter(resource) -> str:
    text = resource.value if isinstance(resource, Intrinsic) else resource
    prefix = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/engage/${Stage}/"
    match = re.fullmatch(re.escape(prefix) + r"([a-z/-]+)", text)
    assert match, f"not one of our parameters: {text}"
    return match.group(1)


def _environment(logical: str) -> dict:
    return {
        **TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
        **FUNCTIONS[logical]["props"].get("Environment", {}).get("Variables", {}),
    }


def _referenced_parameters(variables: dict) -> set[str]:
    found = set()
    for value in variables.values():
        if isinstance(value, Intrinsic) and value.tag == "Sub" and value.value.startswith("ssm:"):
            found.add(value.value.removeprefix("ssm:/engage/${Stage}/"))
    return found


def test_each_function_reads_exactly_the_secrets_its_environment_names():
    assert not _referenced_parameters(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for logical, fn in FUNCTIONS.items():
        statements = list(_statements(_role_of(fn)))
        readable = {_parameter(r) for r in _granted(_role_of(fn), "ssm:GetParameter")}
        ssm_actions = {a for s in statements for a in _as_list(s["Action"]) if a.startswith("ssm:")}
        assert ssm_actions <= {"ssm:GetParameter"}, (logical, ssm_actions)  # no path reads, no DescribeParameters
        assert readable == _referenced_parameters(_environment(logical)), logical
        assert readable <= SECRET_PARAMETERS, logical
        secrets = ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN", "EVENTS_WEBHOOK_SECRET")
        for name in (*secrets, "CONVERSIONS_ACCESS_TOKEN"):
            value = _environment(logical).get(name)
            assert value is None or (isinstance(value, Intrinsic) and value.value.startswith("ssm:/engage/")), name


def test_only_the_sender_can_read_the_whatsapp_access_token():
    readers = {
        logical
        for logical, fn in FUNCTIONS.items()
        for s in _statements(_role_of(fn))
        if "ssm:GetParameter" in _as_list(s["Action"])
        for r in _as_list(s["Resource"])
        if _parameter(r) == "whatsapp/access-token"
    }
    assert readers == {"SenderFunction"}
    # ...and only the sender reaches the code that calls WhatsApp's Graph API.
    callers = {
        path.relative_to(ROOT).as_posix()
        for path in [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers/common/python/engage").rglob("*.py")]
        if re.search(
            r"WhatsAppClient\(|WhatsAppGroupsClient\(|delivery\.whatsapp\(\)|delivery\.sender\(|groups\.worker_ports\(",
            path.read_text(),
        )
    }
    # the Groups API client is built in the groups wiring, for the sender's worker ports only
    assert callers == {
        "functions/sender/app.py",
        "layers/common/python/engage/wiring/delivery.py",
        "layers/common/python/engage/wiring/groups.py",
    }


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_each_function_starts_with_only_the_environment_the_template_gives_it(logical, monkeypatch):
    """The settings slice a function reads loads from its own environment, and the WhatsApp token's
    slice does not load anywhere but in the sender."""
    from engage.core import settings

    monkeypatch.setattr(settings, "resolve_reference", lambda raw: "resolved" if raw.startswith("ssm:") else raw)
    env = {k: (v.value if isinstance(v, Intrinsic) else str(v)) for k, v in _environment(logical).items()}
    reads = {
        "WebhookFunction": [settings.WebhookSettings, settings.QueueSettings],
        "ApiFunction": [settings.ApiSettings, settings.QueueSettings],
        "SenderFunction": [
            settings.WhatsAppSettings,
            settings.QueueSettings,
            settings.AlertSettings,
            settings.LinkSettings,
        ],
        "SchedulerFunction": [settings.QueueSettings, settings.AlertSettings],
    }.get(logical, [settings.QueueSettings])
    for slice_ in reads:
        slice_.from_env(env)
    if logical != "SenderFunction":
        with pytest.raises(settings.SettingsError, match="WHATSAPP_ACCESS_TOKEN"):
            settings.WhatsAppSettings.from_env(env)


def _event_sources(kind: str):
    for logical, fn in FUNCTIONS.items():
        for name, event in fn["events"].items():
            if event["Type"] == kind:
                yield logical, fn, name, event["Properties"]


def test_queues_outlast_their_consumers_and_report_partial_failures():
    timeout_default = TEMPLATE["Globals"]["Function"]["Timeout"]
    found = 0
    for _, fn, _, props in _event_sources("SQS"):
        found += 1
        queue = RESOURCES[props["Queue"].value.split(".")[0]]["Properties"]
        timeout = fn["props"].get("Timeout", timeout_default)
        assert queue["VisibilityTimeout"] >= 6 * timeout
        assert "RedrivePolicy" in queue
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert found >= 3


def test_sender_concurrency_is_bounded_by_the_event_source():
    props = FUNCTIONS["SenderFunction"]["events"]["SendJobs"]["Properties"]
    assert props["ScalingConfig"]["MaximumConcurrency"].value == "SenderMaxConcurrency"
    param = TEMPLATE["Parameters"]["SenderMaxConcurrency"]
    assert 2 <= param["MinValue"] <= param["Default"] <= param["MaxValue"] <= 1000


def test_stream_consumers_retry_bisect_and_keep_what_they_give_up_on():
    consumers = list(_event_sources("DynamoDB"))
    assert {logical for logical, *_ in consumers} == {"TaggerFunction", "MetricsFunction"}  # at most 2 per stream
    for _, _, _, props in consumers:
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] >= 1
        assert props["DestinationConfig"]["OnFailure"]["Type"] == "SQS"


def test_table_has_stream_ttl_pitr_and_the_indexes_the_adapters_use():
    props = RESOURCES["EngageTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert {g["IndexName"] for g in props["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}


def _routes():
    for _, fn, _, props in _event_sources("HttpApi"):
        auth = props.get("Auth", {}).get("Authorizer")
        yield fn["folder"], props["Method"], props["Path"], auth


def test_marketer_routes_need_the_jwt_authorizer_and_public_ones_are_explicit():
    auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "CognitoJwt"
    public = {(m, p) for _, m, p, a in _routes() if a == "NONE"}
    assert public == {
        ("GET", "/webhook"),
        ("POST", "/webhook"),
        ("GET", "/r/{code}"),
        ("GET", "/v1/coupons/{code}"),
        ("HEAD", "/r/{code}"),
        ("POST", "/v1/events"),
        ("GET", "/openapi.json"),
        ("GET", "/v1/openapi.json"),
        ("GET", "/docs"),
    }
    assert all("{proxy+}" not in p for _, _, p, _ in _routes())


@pytest.mark.parametrize("method,path", [(m, p) for f, m, p, _ in _routes() if f == "api"])
def test_every_api_route_in_the_template_is_served_by_the_api_function(method, path):
    from functions.api.app import app

    concrete = re.sub(r"\{[^}]+\}", "x1", path)
    routes = [r for r in app._dynamic_routes + app._static_routes if method in r.method]
    assert any(r.rule.match(concrete) for r in routes), f"{method} {path} has no handler"


def test_schedules_name_their_job_and_pass_the_scheduled_time():
    import json

    from engage.schedules import JOBS

    for _, _, _, props in _event_sources("ScheduleV2"):
        payload = json.loads(props["Input"])
        assert payload["now"] == "<aws.scheduler.scheduled-time>"
        assert payload["schedule"] in JOBS


# ---------------------------------------------------------------- alarms


def _alarms() -> list[dict]:
    return [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::CloudWatch::Alarm"]


def _watching(namespace: str, metric: str) -> list:
    """What the alarms on one metric watch: the value of their first dimension."""
    found = []
    for alarm in _alarms():
        if alarm.get("Namespace") == namespace and alarm.get("MetricName") == metric:
            found.append(alarm["Dimensions"][0]["Value"])
    return found


def _ref(value) -> str | None:
    return value.value if isinstance(value, Intrinsic) and value.tag == "Ref" else None


def test_every_alarm_notifies_the_alerts_topic_which_cloudwatch_can_publish_to():
    assert len(_alarms()) >= 25
    for alarm in _alarms():
        assert [_ref(a) for a in alarm["AlarmActions"]] == ["AlertsTopic"], alarm["AlarmDescription"]
        assert alarm["TreatMissingData"] == "notBreaching"
    # CloudWatch cannot use the AWS managed key alias/aws/sns: the topic's key must be ours and let it.
    key = _ref(RESOURCES["AlertsTopic"]["Properties"]["KmsMasterKeyId"])
    assert RESOURCES[key]["Type"] == "AWS::KMS::Key"
    principals = [s["Principal"] for s in RESOURCES[key]["Properties"]["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals
    for logical, fn in FUNCTIONS.items():  # whoever publishes can use the key
        if _granted(_role_of(fn), "sns:Publish"):
            assert [_getatt(r) for r in _granted(_role_of(fn), "kms:GenerateDataKey")] == [key], logical


def test_every_function_has_an_errors_and_a_throttles_alarm():
    for metric in ("Errors", "Throttles"):
        watched = [_ref(v) for v in _watching("AWS/Lambda", metric)]
        assert sorted(watched) == sorted(FUNCTIONS), metric


def test_every_stream_consumer_has_an_iterator_age_alarm_well_inside_the_24h_retention():
    consumers = {logical for logical, *_ in _event_sources("DynamoDB")}
    watched = {_ref(v) for v in _watching("AWS/Lambda", "IteratorAge")}
    assert watched == consumers
    for alarm in _alarms():
        if alarm.get("MetricName") == "IteratorAge":
            assert alarm["Statistic"] == "Maximum"
            assert alarm["Threshold"] * alarm["EvaluationPeriods"] < 24 * 3600 * 1000 / 4


def _queue_names(values) -> set[str]:
    return {v.value.removesuffix(".QueueName") for v in values if isinstance(v, Intrinsic)}


def test_every_consumed_queue_alarms_on_its_oldest_message_and_every_other_queue_on_its_depth():
    queues = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"}
    consumed = {props["Queue"].value.removesuffix(".Arn") for *_, props in _event_sources("SQS")}
    assert consumed == {"SendQueue", "DispatchQueue", "PassQueue", "ImportQueue"}
    assert _queue_names(_watching("AWS/SQS", "ApproximateAgeOfOldestMessage")) == consumed
    # Dead-letter queues, the stream-failure queue and the schedules' DLQ: nothing reads them, so
    # anything in them is something that failed for good.
    assert _queue_names(_watching("AWS/SQS", "ApproximateNumberOfMessagesVisible")) == queues - consumed
    for alarm in _alarms():
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            assert alarm["Threshold"] == 0


def test_api_5xx_is_alarmed_on_the_http_api_stage():
    [alarm] = [a for a in _alarms() if a.get("Namespace") == "AWS/ApiGateway"]
    assert alarm["MetricName"] == "5xx"
    assert {d["Name"]: _ref(d["Value"]) for d in alarm["Dimensions"]} == {"ApiId": "HttpApi", "Stage": "Stage"}
    assert alarm["Threshold"] == 0  # no request may produce a 5xx


def test_dynamodb_throttling_is_alarmed_on_the_table_and_every_index_for_reads_and_writes():
    indexes = {g["IndexName"] for g in RESOURCES["EngageTable"]["Properties"]["GlobalSecondaryIndexes"]}
    [alarm] = [a for a in _alarms() if any("AWS/DynamoDB" in str(m) for m in a.get("Metrics", []))]
    covered = set()
    for m in alarm["Metrics"]:
        if "MetricStat" in m:
            metric = m["MetricStat"]["Metric"]
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert _ref(dims["TableName"]) == "EngageTable"
            covered.add((metric["MetricName"], dims.get("GlobalSecondaryIndexName")))
    kinds = ("ReadThrottleEvents", "WriteThrottleEvents")
    expected = {(metric, index) for metric in kinds for index in {None, *indexes}}
    assert covered == expected
    [expression] = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    assert all(f"FILL({m['Id']}, 0)" in expression["Expression"] for m in alarm["Metrics"] if "MetricStat" in m)


# ---------------------------------------------------------------- schedules, retention, throttling


def test_every_schedule_retries_and_keeps_what_it_could_not_deliver():
    schedules = list(_event_sources("ScheduleV2"))
    assert len(schedules) >= 6
    depth_alarmed = _queue_names(_watching("AWS/SQS", "ApproximateNumberOfMessagesVisible"))
    for _, fn, name, props in schedules:
        retry = props["RetryPolicy"]
        assert 0 <= retry["MaximumRetryAttempts"] <= 185, name
        assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400, name
        dlq = _getatt(props["DeadLetterConfig"]["Arn"])
        assert RESOURCES[dlq]["Type"] == "AWS::SQS::Queue" and dlq in depth_alarmed, name
        # Scheduler invokes asynchronously: a run that fails lands in the same queue after Lambda's retries.
        on_failure = fn["props"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS" and _getatt(on_failure["Destination"]) == dlq, name


def test_the_table_the_user_pool_and_every_failure_queue_survive_a_stack_deletion_or_replacement():
    consumed = {props["Queue"].value.removesuffix(".Arn") for *_, props in _event_sources("SQS")}
    failure_queues = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"} - consumed
    for logical in {"EngageTable", "UserPool", *failure_queues}:
        assert RESOURCES[logical].get("DeletionPolicy") == "Retain", logical
        assert RESOURCES[logical].get("UpdateReplacePolicy") == "Retain", logical


ACCOUNT_RPS = 10_000  # API Gateway's default account limit per Region, shared by every API
WHATSAPP_TIER_MPS = 1_000  # messages per second after the automatic throughput upgrade
STATUSES_PER_MESSAGE = 3  # sent, delivered, read


def test_open_routes_and_the_stage_default_are_throttled_within_the_account_limit():
    api = RESOURCES["HttpApi"]["Properties"]
    default = api["DefaultRouteSettings"]
    assert 0 < default["ThrottlingRateLimit"] <= default["ThrottlingBurstLimit"] <= ACCOUNT_RPS
    settings = api["RouteSettings"]
    public = {f"{m} {p}" for _, m, p, a in _routes() if a == "NONE"}
    assert public <= set(settings), public - set(settings)
    assert set(settings) <= {f"{m} {p}" for _, m, p, _ in _routes()}, "a setting for a route that does not exist"
    for key, route in settings.items():
        assert 0 < route["ThrottlingRateLimit"] <= ACCOUNT_RPS, key
        assert route["ThrottlingBurstLimit"] >= route["ThrottlingRateLimit"] or key == "POST /webhook", key
    # Meta's status notifications for everything we send at the top tier fit, with room to spare,
    # and the open routes together leave part of the account's limit to the marketers' API.
    webhook = settings["POST /webhook"]["ThrottlingRateLimit"]
    assert webhook >= 1.5 * WHATSAPP_TIER_MPS * STATUSES_PER_MESSAGE
    assert sum(route["ThrottlingRateLimit"] for route in settings.values()) < ACCOUNT_RPS


def test_indexes_project_keys_only_so_status_and_profile_updates_never_rewrite_them():
    indexes = TEMPLATE["Resources"]["EngageTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"]: i["Projection"]["ProjectionType"] for i in indexes} == {
        "gsi1": "KEYS_ONLY",
        "gsi2": "KEYS_ONLY",
    }
    assert TEMPLATE["Resources"]["EngageTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_metrics_stream_names_its_shard_and_takes_one_batch_at_a_time():
    event = TEMPLATE["Resources"]["MetricsFunction"]["Properties"]["Events"]["TableStream"]["Properties"]
    assert event["ParallelizationFactor"] == 1  # the shard's position is exact only one batch at a time
    assert event["TumblingWindowInSeconds"] > 0  # so Lambda puts `shardId` in each event
    assert event["BatchSize"] >= 1000 and "ReportBatchItemFailures" in event["FunctionResponseTypes"]


def test_webhook_has_an_open_function_url_throttled_by_reserved_concurrency_and_no_tracing():
    props = TEMPLATE["Resources"]["WebhookFunction"]["Properties"]
    assert props["FunctionUrlConfig"]["AuthType"] == "NONE"  # the HMAC signature authenticates
    assert props["ReservedConcurrentExecutions"] > 0
    assert props["Tracing"] == "PassThrough"
    assert props["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"

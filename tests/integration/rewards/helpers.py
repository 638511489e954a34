"""Shared steps of the rewards integration tests: the API, signed shop events, the table's stream."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.conftest import EVENTS_WEBHOOK_SECRET
from tests.helpers.events import http_event


def call(
    method: str, path: str, *, body: Any = None, groups: str | None = "marketer", **kwargs: Any
) -> tuple[int, Any]:
    from functions.api import app
    from tests.conftest import FakeLambdaContext

    event = http_event(method, path, body=body, groups=groups, **kwargs)
    response = app.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"] or "null")


def signed(code: str, secret: str = EVENTS_WEBHOOK_SECRET) -> dict[str, str]:
    from engage.inbound.shop_events import signature

    return {"x-engage-signature": signature(secret, code.encode())}


def shop_event(body: dict[str, Any]) -> tuple[int, Any]:
    from engage.inbound.shop_events import signature

    raw = json.dumps(body)
    return call(
        "POST",
        "/v1/events",
        raw_body=raw,
        groups=None,
        headers={"x-engage-signature": signature(EVENTS_WEBHOOK_SECRET, raw.encode())},
    )


def order(
    event_id: str, *, phone: str, total: float, coupon: str | None = None, at: str = "2026-11-23T10:00:00Z"
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "order_placed",
        "occurred_at": at,
        "customer": {"phone": phone, "name": "Asha"},
        "data": {
            "order_id": event_id,
            "items": [{"product": "Silk scarf", "category": "accessories", "price": total, "quantity": 1}],
            "total": total,
            "currency": "EUR",
            **({"coupon": coupon} if coupon else {}),
        },
    }


class Stream:
    """The table's stream as the tagger receives it; `run()` hands the records not handled yet to the
    real tagger handler (`replay=True` hands every record again, as a stream retry would)."""

    def __init__(self, aws: Any):
        self.aws = aws
        self.seen: set[str] = set()

    def records(self) -> list[dict[str, Any]]:
        streams = boto3.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.aws.stream_arn)["StreamDescription"]["Shards"]
        found = []
        for shard in shards:
            iterator = streams.get_shard_iterator(
                StreamArn=self.aws.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                record["eventSourceARN"] = self.aws.stream_arn
                record["dynamodb"]["ApproximateCreationDateTime"] = int(
                    record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
                )
                found.append(record)
        return found

    def run(self, *, replay: bool = False, rounds: int = 5) -> None:
        from functions.tagger import app
        from tests.conftest import FakeLambdaContext

        for _ in range(rounds):  # the processors write history items, which are new records
            fresh = [r for r in self.records() if replay or r["eventID"] not in self.seen]
            replay = False
            if not fresh:
                return
            self.seen.update(r["eventID"] for r in fresh)
            result = app.lambda_handler({"Records": fresh}, FakeLambdaContext())
            assert result["batchItemFailures"] == [], result


def send_jobs(aws: Any) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    jobs = []
    while True:
        got = sqs.receive_message(QueueUrl=aws.queues["SendQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0)
        messages = got.get("Messages", [])
        if not messages:
            return jobs
        for message in messages:
            jobs.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=aws.queues["SendQueue"], ReceiptHandle=message["ReceiptHandle"])

"""Runs scheduled jobs and drains the PassQueue through the scheduler handler, in process (moto)."""

from __future__ import annotations

import hashlib
import os
from typing import Any


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795342530000"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "eu-west-1",
    }


def drain_pass_queue(context: Any, *, max_messages: int = 100_000) -> int:
    """Feeds every PassQueue message (and those the pages queue) to the scheduler; returns how many ran."""
    import boto3

    from functions.scheduler import app

    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = os.environ["ENGAGE_PASS_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ran = 0
    while ran < max_messages:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return ran
        for message in messages:
            result = app.lambda_handler({"Records": [sqs_record(message, arn)]}, context)
            assert result == {"batchItemFailures": []}, result
            ran += 1
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return ran


def run_schedule(name: str, now: str, context: Any) -> dict[str, Any]:
    """Runs the schedule `name` at `now` and every page it fans out; returns the schedule's summary."""
    from functions.scheduler import app

    summary = app.lambda_handler({"schedule": name, "now": now}, context)
    summary["pages_run"] = drain_pass_queue(context)
    return summary

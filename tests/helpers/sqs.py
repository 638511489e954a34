"""SQS events from real (moto) queues, so handlers see exactly what Lambda would hand them."""

from __future__ import annotations

from typing import Any


def receive_event(sqs: Any, queue_url: str, arn: str, max_messages: int = 10, visibility: int = 30) -> dict[str, Any]:
    response = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=max_messages, AttributeNames=["All"], VisibilityTimeout=visibility
    )
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                "SenderId": "test",
                "ApproximateFirstReceiveTimestamp": "0",
            },
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": "eu-west-1",
        }
        for m in response.get("Messages", [])
    ]
    return {"Records": records}


def delete_all(sqs: Any, queue_url: str, event: dict[str, Any], failed: set[str]) -> None:
    """What Lambda does after a partial batch response: deletes the records that succeeded."""
    for record in event["Records"]:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])


def drain(sqs: Any, queue_url: str, arn: str, handler: Any, context: Any, rounds: int = 200) -> list[dict[str, Any]]:
    """Feeds the queue to the handler until it is empty; returns the events handled."""
    seen = []
    for _ in range(rounds):
        event = receive_event(sqs, queue_url, arn)
        if not event["Records"]:
            break
        result = handler(event, context)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        delete_all(sqs, queue_url, event, failed)
        seen.append(event)
    return seen

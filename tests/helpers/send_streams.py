"""DynamoDB stream events for send-item changes (the metrics function's input)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.helpers.streams import STREAM_ARN, dynamo_json

_sequence = itertools.count(1_000_000)
__all__ = ["STREAM_ARN", "dynamo_json"]


def send_item(customer_id: str = "c_1", send_key: str = "cmp_1", **fields: Any) -> dict[str, Any]:
    """A send item as the sender writes it (docs/data-model.md), plus `fields`."""
    item: dict[str, Any] = {
        "pk": f"CUST#{customer_id}",
        "sk": f"SEND#{send_key}",
        "type": "send",
        "customer_id": customer_id,
        "send_key": send_key,
        "campaign_id": send_key,
        "variant": "A",
        "category": "marketing",
        "segment_id": "seg_vip",
        "state": "intent",
    }
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def stream_record(
    old: dict[str, Any] | None, new: dict[str, Any] | None, *, at: int = 1795428000, sequence: int | None = None
) -> dict[str, Any]:
    image = new or old or {}
    name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": at,
        "Keys": dynamo_json({"pk": image["pk"], "sk": image["sk"]}),
        "SequenceNumber": str(sequence if sequence is not None else next(_sequence)),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = dynamo_json(new)
    if old is not None:
        body["OldImage"] = dynamo_json(old)
    return {
        "eventID": f"ev{body['SequenceNumber']}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": body,
        "eventSourceARN": STREAM_ARN,
    }


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def lifecycle(customer_id: str, send_key: str = "cmp_1", **base: Any) -> list[tuple[dict | None, dict]]:
    """(old, new) pairs of a send going intent -> sent -> delivered -> read, as the webhook writes them."""
    intent = send_item(customer_id, send_key, **base)
    sent = {
        **intent,
        "state": "sent",
        "status": "accepted",
        "wamid": f"wamid.{customer_id}",
        "sent_at": "2026-11-23T10:00:00Z",
    }
    delivered = {**sent, "status": "delivered", "status_rank": 2, "delivered_at": "2026-11-23T10:00:05Z"}
    read = {**delivered, "status": "read", "status_rank": 3, "read_at": "2026-11-23T10:03:00Z"}
    return [(None, intent), (intent, sent), (sent, delivered), (delivered, read)]


class StreamPump:
    """Reads the table's stream on moto like Lambda's event source mapping would (moto runs none).

    `events()` returns the records written since the last call, in the Lambda event shape, keeping
    only what the metrics function's FilterCriteria lets through (`sk` starting with SEND#).
    """

    def __init__(self, stream_arn: str, sk_prefix: str = "SEND#"):
        import boto3

        self.client = boto3.client("dynamodbstreams", region_name="eu-west-1")
        self.stream_arn = stream_arn
        self.sk_prefix = sk_prefix
        shards = self.client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        self.iterators = [
            self.client.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        ]

    def records(self) -> list[dict[str, Any]]:
        found = []
        for index, iterator in enumerate(self.iterators):
            response = self.client.get_records(ShardIterator=iterator, Limit=1000)
            self.iterators[index] = response["NextShardIterator"]
            for record in response["Records"]:
                body = dict(record["dynamodb"])
                if not body["Keys"]["sk"]["S"].startswith(self.sk_prefix):
                    continue
                created = body.get("ApproximateCreationDateTime")
                body["ApproximateCreationDateTime"] = int(created.timestamp()) if created else 0
                found.append({**record, "dynamodb": body, "eventSourceARN": self.stream_arn})
        return found

    def events(self, batch_size: int = 100) -> list[dict[str, Any]]:
        records = self.records()
        return [stream_event(*records[i : i + batch_size]) for i in range(0, len(records), batch_size)]

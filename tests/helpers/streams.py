"""DynamoDB stream events (the Lambda shape) from table items, and history items to put in them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from engage.adapters.dynamo.keys import customer_pk, event_sk
from engage.adapters.dynamo.table import to_dynamo

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/engage-test/stream/2026-11-23T00:00:00.000"
_serializer = TypeSerializer()
_sequence = [1000]


def dynamo_json(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in to_dynamo(item).items()}


def stream_record(item: dict[str, Any], *, event_name: str = "INSERT", sequence: int | None = None) -> dict[str, Any]:
    if sequence is None:
        _sequence[0] += 1
        sequence = _sequence[0]
    image = dynamo_json(item)
    return {
        "eventID": f"{sequence:032x}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795342530,
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": str(sequence).rjust(21, "0"),
            "SizeBytes": 256,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }


def stream_event(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [stream_record(i) for i in items]}


def history_item(customer_id: str, kind: str, event_id: str, at: str, **data: Any) -> dict[str, Any]:
    """A history item as the webhook (kind=message) or the events API writes it."""
    clean = {k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in data.items()}
    return {
        "pk": customer_pk(customer_id),
        "sk": event_sk(at, kind, event_id),
        "type": "event",
        "kind": kind,
        "event_id": event_id,
        "customer_id": customer_id,
        "occurred_at": at,
        "data": clean,
    }


def table_stream_event(stream_arn: str, *, after: str | None = None) -> tuple[dict[str, Any], str | None]:
    """The table's real (moto) stream records as the tagger's Lambda event, filtered like the template
    (INSERT of `EVT#` items). Returns (event, last sequence number) so a caller can read only newer ones."""
    import boto3

    streams = boto3.client("dynamodbstreams", region_name="eu-west-1")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page["Records"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    last = records[-1]["dynamodb"]["SequenceNumber"] if records else after
    if after is not None:
        records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > int(after)]
    out = []
    for record in records:
        body = dict(record["dynamodb"])
        created = body.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            body["ApproximateCreationDateTime"] = int(created.timestamp())
        if record["eventName"] == "INSERT" and body["Keys"]["sk"]["S"].startswith("EVT#"):
            out.append({**record, "dynamodb": body, "eventSourceARN": stream_arn})
    return {"Records": out}, last


def attribute_stream_record(store: Any, record: dict[str, Any], now: Any, *, config: Any = None) -> Any:
    """What the tagger does with a raw stream record: the edge turns it into a history item, then
    reply attribution runs on it (anything but a new history item is ignored)."""
    from engage.adapters.dynamo.streams import history_item_of
    from engage.inbound.replies import attribute_reply

    item = history_item_of(record)
    return attribute_reply(store, item, now, config=config) if item else None

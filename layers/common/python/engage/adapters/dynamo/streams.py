"""The table's stream records turned into domain values, at the edge (the tagger and metrics handlers).

Stream shapes (Powertools' `DynamoDBRecord`, or the raw Lambda record with DynamoDB JSON) and the
table's keys stop here: the domain receives plain history items and send items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from engage.adapters.dynamo.keys import customer_id_of, is_event_sk, is_send_sk, send_key_of
from engage.adapters.dynamo.table import from_dynamo

KEY_ATTRIBUTES = ("pk", "sk")


def history_item(record: DynamoDBRecord) -> dict[str, Any] | None:
    """The history item an INSERT record adds, as plain Python values; None for any other record."""
    if record.event_name is None or record.event_name.name != "INSERT":
        return None
    image = record.dynamodb.new_image if record.dynamodb else {}
    if not is_event_sk(image.get("sk")) or image.get("type") != "event":
        return None
    return from_dynamo(image)


def history_item_of(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """`history_item` for a raw Lambda stream record (DynamoDB JSON images)."""
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    item = {key: attribute_value(value) for key, value in image.items()}
    return item if is_event_sk(item.get("sk")) else None


def attribute_value(value: Mapping[str, Any]) -> Any:
    """DynamoDB JSON (`{"S": ...}`, `{"M": {...}}`, ...) to plain values; numbers become int/float."""
    (kind, inner), *_ = value.items()
    if kind == "M":
        return {k: attribute_value(v) for k, v in inner.items()}
    if kind == "L":
        return [attribute_value(v) for v in inner]
    if kind == "N":
        number = float(inner)
        return int(number) if number.is_integer() and "." not in inner and "e" not in inner.lower() else number
    if kind == "NS":
        return {attribute_value({"N": n}) for n in inner}
    if kind == "NULL":
        return None
    return inner  # S, BOOL, SS, B, BS


def send_item_change(
    old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any]] | None:
    """(old, new) send item of a stream record that changes a send item, as plain values with
    `customer_id` and `send_key`; None when the record adds or changes anything else."""
    if not new_image or not is_send_sk(new_image.get("sk")):
        return None
    return send_item(old_image), send_item(new_image) or {}


def send_item(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    item = {k: from_dynamo(v) for k, v in image.items() if k not in KEY_ATTRIBUTES}
    if "pk" in image:
        item["customer_id"] = item.get("customer_id") or customer_id_of(image["pk"])
    if "sk" in image:
        item["send_key"] = item.get("send_key") or send_key_of(image["sk"])
    return item


def send_item_change_of(record: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]] | None:
    """`send_item_change` for a raw Lambda stream record (DynamoDB JSON images), without building
    Powertools' record: the metrics consumer reads a thousand records a batch."""
    body = record.get("dynamodb") or {}
    new_raw, old_raw = body.get("NewImage"), body.get("OldImage")
    if not new_raw or not str((new_raw.get("sk") or {}).get("S", "")).startswith("SEND#"):
        return None
    new = {k: attribute_value(v) for k, v in new_raw.items()}
    old = {k: attribute_value(v) for k, v in old_raw.items()} if old_raw else None
    if not is_send_sk(new.get("sk")):
        return None
    return _send_view(old), _send_view(new) or {}


def _send_view(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not item:
        return None
    view = {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES}
    if "pk" in item:
        view["customer_id"] = view.get("customer_id") or customer_id_of(item["pk"])
    if "sk" in item:
        view["send_key"] = view.get("send_key") or send_key_of(item["sk"])
    return view

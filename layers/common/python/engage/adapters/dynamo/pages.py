"""One page of a query at a time, with an opaque cursor: for API listings and restartable passes.

`Table.query` reads every page; listings and the nightly pass need to stop after N items and
resume later from a cursor (the `LastEvaluatedKey`, base64-encoded JSON).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from engage.adapters.dynamo.table import Table, from_dynamo
from engage.core.errors import Invalid


def encode_cursor(value: Any) -> str | None:
    if value is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError) as error:
        raise Invalid("cursor is not one this API returned", code="invalid_cursor") from error
    if not isinstance(value, dict):
        raise Invalid("cursor is not one this API returned", code="invalid_cursor")
    return value


def query_page(
    table: Table,
    pk: str,
    *,
    index: str | None = None,
    sk_between: tuple[str, str] | None = None,
    sk_prefix: str | None = None,
    forward: bool = True,
    limit: int = 100,
    start_key: dict[str, Any] | None = None,
    filters: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to `limit` items of partition `pk` and the key to resume from (None at the end).

    `filters` are equality tests on plain attributes; a filtered page may hold fewer items.
    """
    pk_attr, sk_attr = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
    names = {"#pk": pk_attr}
    values: dict[str, Any] = {":pk": pk}
    condition = "#pk = :pk"
    if sk_between:
        names["#sk"] = sk_attr
        values[":lo"], values[":hi"] = sk_between
        condition += " AND #sk BETWEEN :lo AND :hi"
    elif sk_prefix:
        names["#sk"] = sk_attr
        values[":prefix"] = sk_prefix
        condition += " AND begins_with(#sk, :prefix)"
    kwargs: dict[str, Any] = {
        "TableName": table.name,
        "KeyConditionExpression": condition,
        "ScanIndexForward": forward,
        "Limit": limit,
    }
    if index:
        kwargs["IndexName"] = index
    if filters:
        parts = []
        for i, (attr, value) in enumerate(filters.items()):
            names[f"#f{i}"], values[f":f{i}"] = attr, value
            parts.append(f"#f{i} = :f{i}")
        kwargs["FilterExpression"] = " AND ".join(parts)
    kwargs["ExpressionAttributeNames"], kwargs["ExpressionAttributeValues"] = names, values
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    response = table.client.query(**kwargs)
    # The table resource's client (de)serialises values itself: items and keys are plain Python values.
    last = response.get("LastEvaluatedKey")
    rows = [from_dynamo(item) for item in response.get("Items", [])]
    if index:  # the indexes project keys only: read the page's items by key
        rows = list(table.with_items(rows))
    return rows, from_dynamo(last) if last else None

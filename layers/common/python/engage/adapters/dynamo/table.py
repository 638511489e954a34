"""A thin wrapper over one DynamoDB table: the SDK's limits and pagination live here, no rules.

- every query and scan pages until DynamoDB says there is no more (no silent 1 MB truncation);
- batch writes go 25 at a time and batch reads 100 at a time, retrying unprocessed items;
- throttling (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded) is
  retried by botocore itself: the resource is built with `SDK_CONFIG` (standard retry mode: bounded
  attempts, exponential backoff with full jitter, a retry quota). What botocore cannot see is a batch
  call that succeeds with `UnprocessedItems`/`UnprocessedKeys` (throttled items inside a 200):
  those are re-sent here with the same kind of backoff (`Backoff`), a bounded number of times;
- floats become Decimals on the way in, Decimals become int/float on the way out;
- conditional writes report "already there" as a boolean, not an exception.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from engage.core.errors import StorageError

Item = dict[str, Any]

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACT_LIMIT = 100

# botocore retries throttling and transient errors (standard mode: up to 5 attempts, full-jitter
# exponential backoff capped at 20 s). Build the DynamoDB resource with it (engage.wiring.aws).
SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5})


@dataclass
class Backoff:
    """Bounded exponential backoff with full jitter, for unprocessed batch items (`sleep` and `rand`
    are injectable for tests). Attempt n waits uniform(0, min(cap, base * 2^n)) seconds."""

    attempts: int = 8
    base: float = 0.05
    cap: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = field(default=random.random)

    def wait(self, attempt: int, what: str) -> None:
        """Sleeps before retry `attempt` (1-based); raises StorageError once the attempts are spent."""
        if attempt > self.attempts:
            raise StorageError(f"{what}: still unprocessed after {self.attempts} retries (throttled)")
        self.sleep(self.rand() * min(self.cap, self.base * 2**attempt))


def to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {from_dynamo(v) for v in value}
    return value


_DESERIALIZE = TypeDeserializer()


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Update:
    """Builds one UpdateExpression from plain dicts, with placeholders for every name."""

    def __init__(self) -> None:
        self._set: list[str] = []
        self._add: list[str] = []
        self._remove: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def _name(self, attr: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attr
        return placeholder

    def _value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = to_dynamo(value)
        return placeholder

    def set(self, **fields: Any) -> Update:
        for attr, value in fields.items():
            if value is None:
                self.remove(attr)
            else:
                self._set.append(f"{self._name(attr)} = {self._value(value)}")
        return self

    def set_if_absent(self, **fields: Any) -> Update:
        for attr, value in fields.items():
            name = self._name(attr)
            self._set.append(f"{name} = if_not_exists({name}, {self._value(value)})")
        return self

    def add(self, **fields: int | float) -> Update:
        for attr, value in fields.items():
            self._add.append(f"{self._name(attr)} {self._value(value)}")
        return self

    def add_to_set(self, **fields: frozenset[str]) -> Update:
        """ADD members to string sets (adding a member twice changes nothing)."""
        for attr, members in fields.items():
            self._add.append(f"{self._name(attr)} {self._value(members)}")
        return self

    def remove(self, *attrs: str) -> Update:
        self._remove.extend(self._name(attr) for attr in attrs)
        return self

    def value(self, value: Any) -> str:
        """A placeholder for a value used in a condition written by the caller."""
        return self._value(value)

    def name(self, attr: str) -> str:
        return self._name(attr)

    def request(self, pk: str, sk: str, condition: str | None = None, *, table: str | None = None) -> dict[str, Any]:
        """The UpdateItem parameters for the item (pk, sk): on the table, or as a transaction's Update
        (`table` names the table, for transactions sent through the client rather than `Table.transact`)."""
        request: dict[str, Any] = {
            "Key": {"pk": pk, "sk": sk},
            "UpdateExpression": self.expression(),
            "ExpressionAttributeNames": self.names,
        }
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        if condition:
            request["ConditionExpression"] = condition
        if table:
            request["TableName"] = table
        return request

    def expression(self) -> str:
        parts = []
        if self._set:
            parts.append("SET " + ", ".join(self._set))
        if self._add:
            parts.append("ADD " + ", ".join(self._add))
        if self._remove:
            parts.append("REMOVE " + ", ".join(self._remove))
        return " ".join(parts)


class Table:
    def __init__(self, table: Any, *, backoff: Backoff | None = None):
        """`table` is a boto3 `dynamodb.Table` resource (built with `SDK_CONFIG`)."""
        self._table = table
        self.name: str = table.name
        self.backoff = backoff or Backoff()

    @property
    def client(self) -> Any:
        return self._table.meta.client

    # ---------------------------------------------------------------- single items
    def get(self, pk: str, sk: str, *, consistent: bool = True) -> Item | None:
        response = self._table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=consistent)
        item = response.get("Item")
        return from_dynamo(item) if item else None

    def put(
        self,
        item: Item,
        *,
        if_absent: bool = False,
        condition: str | None = None,
        names: dict | None = None,
        values: dict | None = None,
    ) -> bool:
        """Writes the item. With `if_absent` (or a condition) returns False when the check fails."""
        condition = "attribute_not_exists(pk)" if if_absent else condition
        return _conditional(self._table.put_item, {"Item": to_dynamo(item)}, condition, names, values)

    def update(
        self, pk: str, sk: str, update: Update, *, condition: str | None = None, return_new: bool = False
    ) -> Item | None | bool:
        """Applies `update`. Returns False when `condition` fails, else the new item or True."""
        kwargs = update.request(pk, sk, condition)
        if return_new:
            kwargs["ReturnValues"] = "ALL_NEW"
        try:
            response = self._table.update_item(**kwargs)
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        if return_new:
            return from_dynamo(response.get("Attributes", {}))
        return True

    def update_or_current(self, pk: str, sk: str, update: Update, *, condition: str) -> tuple[bool, Item | None]:
        """Applies `update` under `condition`: (True, the new item), or (False, the item as it is)
        when the condition fails, from the same request (ReturnValuesOnConditionCheckFailure)."""
        try:
            response = self._table.update_item(
                Key={"pk": pk, "sk": sk},
                UpdateExpression=update.expression(),
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raw = error.response.get("Item")  # the low-level shape: error responses are not deserialised
            current = {k: _DESERIALIZE.deserialize(v) for k, v in raw.items()} if raw else None
            return False, from_dynamo(current) if current else None
        return True, from_dynamo(response.get("Attributes", {}))

    def delete(
        self, pk: str, sk: str, *, condition: str | None = None, names: dict | None = None, values: dict | None = None
    ) -> bool:
        """Deletes the item; with a condition, returns False (and deletes nothing) when the check fails."""
        return _conditional(self._table.delete_item, {"Key": {"pk": pk, "sk": sk}}, condition, names, values)

    # ---------------------------------------------------------------- queries
    def query(
        self,
        pk: str,
        *,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        sk_gte: str | None = None,
        index: str | None = None,
        forward: bool = True,
        consistent: bool = False,
        limit: int | None = None,
        page_size: int | None = None,
        filter: ConditionBase | None = None,
        select_count: bool = False,
        keys_only: bool = False,
    ) -> Iterator[Item]:
        """Every matching item, page after page. `limit` stops after that many items; `page_size`
        caps each request (DynamoDB's `Limit`), so a caller that stops early has read little more."""
        pk_attr, sk_attr = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
        condition = Key(pk_attr).eq(pk)
        if sk_prefix is not None:
            condition &= Key(sk_attr).begins_with(sk_prefix)
        elif sk_between is not None:
            condition &= Key(sk_attr).between(*sk_between)
        elif sk_gte is not None:
            condition &= Key(sk_attr).gte(sk_gte)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": forward}
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if filter is not None:
            kwargs["FilterExpression"] = filter
        if page_size:
            kwargs["Limit"] = page_size
        found = self._paginate(self._table.query, kwargs, limit)
        if index is None or keys_only or select_count:
            yield from found
            return
        # The indexes project keys only (docs/data-model.md), so a status or profile update never
        # rewrites them: the items themselves are read by key, a page at a time, in index order.
        yield from self.with_items(found)

    def with_items(self, keys: Iterable[Item], page: int = 100) -> Iterator[Item]:
        """The table's items for index rows (keys only), in the rows' order; rows whose item is gone
        are left out."""
        chunk: list[Item] = []
        for row in keys:
            chunk.append(row)
            if len(chunk) == page:
                yield from self._fetch(chunk)
                chunk = []
        if chunk:
            yield from self._fetch(chunk)

    def _fetch(self, rows: list[Item]) -> list[Item]:
        found = {(i["pk"], i["sk"]): i for i in self.batch_get([(r["pk"], r["sk"]) for r in rows], consistent=False)}
        return [found[(r["pk"], r["sk"])] for r in rows if (r["pk"], r["sk"]) in found]

    def count(self, pk: str, *, index: str | None = None, sk_prefix: str | None = None) -> int:
        pk_attr, sk_attr = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
        condition = Key(pk_attr).eq(pk)
        if sk_prefix is not None:
            condition &= Key(sk_attr).begins_with(sk_prefix)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Select": "COUNT"}
        if index:
            kwargs["IndexName"] = index
        total = 0
        while True:
            response = self._table.query(**kwargs)
            total += response["Count"]
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def scan(
        self,
        *,
        segment: int = 0,
        total_segments: int = 1,
        filter: ConditionBase | None = None,
        index: str | None = None,
    ) -> Iterator[Item]:
        kwargs: dict[str, Any] = {"Segment": segment, "TotalSegments": total_segments}
        if filter is not None:
            kwargs["FilterExpression"] = filter
        if index:
            kwargs["IndexName"] = index
        yield from self._paginate(self._table.scan, kwargs, None)

    @staticmethod
    def _paginate(call: Any, kwargs: dict[str, Any], limit: int | None) -> Iterator[Item]:
        yielded = 0
        while True:
            response = call(**kwargs)
            for item in response.get("Items", []):
                yield from_dynamo(item)
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # ---------------------------------------------------------------- batches
    def batch_put(self, items: Iterable[Item]) -> int:
        """Unconditional puts, 25 a request (the last of duplicate keys wins); unprocessed items are
        re-sent with backoff (`Backoff`)."""
        written = 0
        chunk: dict[tuple[str, str], dict[str, Any]] = {}
        for item in items:
            chunk[(item["pk"], item["sk"])] = {"PutRequest": {"Item": to_dynamo(item)}}
            written += 1
            if len(chunk) == BATCH_WRITE_LIMIT:
                self._write_batch(list(chunk.values()))
                chunk = {}
        if chunk:
            self._write_batch(list(chunk.values()))
        return written

    def batch_delete(self, keys: Iterable[tuple[str, str]]) -> None:
        chunk: dict[tuple[str, str], dict[str, Any]] = {}
        for pk, sk in keys:
            chunk[(pk, sk)] = {"DeleteRequest": {"Key": {"pk": pk, "sk": sk}}}
            if len(chunk) == BATCH_WRITE_LIMIT:
                self._write_batch(list(chunk.values()))
                chunk = {}
        if chunk:
            self._write_batch(list(chunk.values()))

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem of at most 25 requests, its `UnprocessedItems` re-sent until none are left."""
        pending: dict[str, Any] = {self.name: requests}
        attempt = 0
        while pending:
            response = self.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if pending:
                attempt += 1
                self.backoff.wait(attempt, "batch_write")

    def batch_get(self, keys: Sequence[tuple[str, str]], *, consistent: bool = True) -> list[Item]:
        """Items for the keys that exist (any order), 100 keys a request; `UnprocessedKeys` are asked
        again with backoff (`Backoff`)."""
        found: list[Item] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.name: {
                    "Keys": [{"pk": pk, "sk": sk} for pk, sk in unique[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": consistent,
                }
            }
            attempt = 0
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(from_dynamo(i) for i in response.get("Responses", {}).get(self.name, []))
                pending = response.get("UnprocessedKeys") or {}
                if pending:
                    attempt += 1
                    self.backoff.wait(attempt, "batch_get")
        return found

    def transact(self, actions: list[dict[str, Any]]) -> bool:
        """All-or-nothing write. Returns False when a condition failed (nothing written)."""
        if len(actions) > TRANSACT_LIMIT:
            raise ValueError(f"a transaction holds at most {TRANSACT_LIMIT} actions")
        for action in actions:
            body = next(iter(action.values()))
            body["TableName"] = self.name
        try:
            self._table.meta.client.transact_write_items(TransactItems=to_dynamo(actions))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons", [])
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                    return False
            raise
        return True


def _conditional(
    call: Callable[..., Any], kwargs: dict[str, Any], condition: str | None, names: dict | None, values: dict | None
) -> bool:
    """One PutItem or DeleteItem under an optional condition: False (and nothing written) when it fails."""
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = to_dynamo(values)
    try:
        call(**kwargs)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True

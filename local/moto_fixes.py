"""Fixes to moto's DynamoDB that a long local session needs, applied by `local.infra.create_resources`.

moto's `TransactWriteItems` deep-copies every table a transaction names before it writes, and on a
cancelled transaction (a condition failed: a duplicate shop event, a replayed counter) puts the copy
in the table's place. Two faults follow:

- **Stalled stream consumers.** The copy has its own stream shard. The stream readers' shard
  iterators point at the old shard object, so after the first cancelled transaction they read a
  stream nobody writes to any more: every consumer silently stops until restart.
- **Quadratic time and memory.** Each transaction copies the whole table, stream records included
  (O(table) per write), and every copy that took the table's place stays alive through the old
  iterators, which moto's streams backend keeps forever (one new iterator per `GetRecords`), and
  through moto's instance tracker: every model object moto creates (each item version, stream
  record, shard iterator, SQS message, and each table copy) is appended to a class-level list for
  its server dashboard and never released.

`install()` replaces the whole-table copy with an undo journal of the items the transaction touches
(a deep copy of each, before) and the stream's length: a cancelled transaction restores those items
in place and drops the stream records it wrote, so the table object, its shard and every iterator
stay valid, and a transaction costs what it writes. It also keeps only the most recent shard
iterators (AWS expires them after 15 minutes; each local consumer holds just its latest one), and
stops the instance tracker for DynamoDB, DynamoDB Streams and SQS objects (nothing local reads it).
`trim_stream` drops stream records every reader has passed (DynamoDB keeps them 24 hours).

- **Quadratic item size checks.** moto checks the 400 KB item limit on each attribute it sets, by
  re-measuring every attribute already set: a new item of n attributes costs n²/2 measurements, a
  fifth of a bulk import's time. `install()` builds a new item's attributes first and measures them
  once (the same limit, the same error).
"""

from __future__ import annotations

import copy as _copy
import threading
from dataclasses import dataclass, field
from typing import Any

#: Shard iterators kept by moto's streams backend; older ones are forgotten (expired, in AWS terms).
MAX_SHARD_ITERATORS = 1_000

#: moto services whose objects are not tracked for moto's dashboard (they would never be freed).
UNTRACKED = ("moto.dynamodb.", "moto.dynamodbstreams.", "moto.sqs.")

_state = threading.local()


@dataclass
class _Undo:
    """What a transaction may change in one table: its touched items as they were, and its stream's length."""

    table: Any
    stream_length: int | None
    items: dict[tuple[Any, Any], Any] = field(default_factory=dict)  # (hash, range) -> Item copy or None

    def restore(self) -> None:
        table = self.table
        for (hash_key, range_key), before in self.items.items():
            if range_key is not None:
                partition = table.items.get(hash_key)
                if before is None:
                    if partition is not None:
                        partition.pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = before
            elif before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
        shard = table.stream_shard
        if shard is not None and self.stream_length is not None:
            del shard.items[self.stream_length :]


class _CopyWithoutTables:
    """moto's module-level `copy`, except that inside a transaction a Table "copy" is the table itself."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_state, "in_transaction", False) and isinstance(value, Table):
            return value
        return _copy.deepcopy(value, memo)


def _journal(backend: Any, transact_items: list[dict[str, Any]]) -> list[_Undo]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    undo: dict[str, _Undo] = {}
    for entry in transact_items:
        if not isinstance(entry, dict) or not entry:
            continue
        op = next(iter(entry.values()))
        if not isinstance(op, dict):
            continue
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        journal = undo.get(table.name)
        if journal is None:
            shard = table.stream_shard
            journal = undo[table.name] = _Undo(table, len(shard.items) if shard is not None else None)
        attrs = op.get("Item") if "Item" in op else op.get("Key")
        if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
            continue
        try:
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, ValueError):
            continue  # moto refuses the malformed key itself, before writing anything
        if (hash_key, range_key) not in journal.items:
            if range_key is not None:
                before = table.items.get(hash_key, {}).get(range_key)
            else:
                before = table.items.get(hash_key)
            journal.items[(hash_key, range_key)] = _copy.deepcopy(before)
    return list(undo.values())


def install() -> None:
    """Patches moto (idempotent, for the whole process): in-place transaction rollback, bounded iterators."""
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_local_in_place", False):
        return
    dynamodb_models.copy = _CopyWithoutTables()  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journals = _journal(self, transact_items)
        _state.in_transaction = True
        try:
            original(self, transact_items)
        except BaseException:
            for journal in journals:
                journal.restore()
            raise
        finally:
            _state.in_transaction = False

    transact_write_items._local_in_place = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

    original_get_records = DynamoDBStreamsBackend.get_records

    def get_records(self: Any, iterator_arn: str, limit: int) -> Any:
        result = original_get_records(self, iterator_arn, limit)
        iterators = self.shard_iterators
        while len(iterators) > MAX_SHARD_ITERATORS:
            del iterators[next(iter(iterators))]  # oldest first: dicts keep insertion order
        return result

    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]
    _measure_items_once()
    _untrack()


def _measure_items_once() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        # LimitedSizeDict's own sum, over all attributes at once (keys and values, limit 405,000).
        if sum(bytesize(key) + value.size() for key, value in values.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, values)

    Item.__init__ = __init__  # type: ignore[method-assign]


def _untrack() -> None:
    from moto.core.common_models import BaseModel

    tracked_new = BaseModel.__new__

    def __new__(cls: Any, *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.startswith(UNTRACKED):
            return object.__new__(cls)
        return tracked_new(cls, *args, **kwargs)

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[assignment,method-assign]


def trim_stream(table: Any, keep_from: int) -> int:
    """Drops the stream records before sequence number `keep_from` (every reader is past them).

    Sequence numbers stay as they were: the shard's starting number moves up by what was dropped.
    Returns how many records were dropped.
    """
    shard = table.stream_shard
    if shard is None:
        return 0
    drop = min(max(0, keep_from - shard.starting_sequence_number), len(shard.items))
    if drop:
        del shard.items[:drop]
        shard.starting_sequence_number += drop
    return drop

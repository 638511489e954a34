"""Sharded, exactly-once counters in the single table.

Items (see docs/data-model.md):
- `CNT#CAMP#<campaign>#<shard>` / `<day>#<variant>`: a campaign's counts per cohort day and variant;
- `CNT#DAY#<shard>` / `<day>#<segment>`: every send's counts per cohort day and segment;
- `CNTPOS#<stream shard>` / `P`: the last stream position (sequence number) counted from that shard;
- `CNTIDX#<day>` / `CAMP#<campaign>`: campaigns with activity that day (for the hourly jobs);
- `REPORT#<campaign>` / `24h`: the 24-hour report.

A stream batch is ONE transaction (split only past 99 counter items): an ADD of the batch's totals on
each counter item it touches, and the shard's position moved to the batch's last record,
conditional on the position read first. Records at or below the position are replays and are
skipped. A stream shard writes its counters into one of `shards` items by a hash of the shard id,
so concurrent shards rarely meet on an item; readers query every shard and add up.
"""

from __future__ import annotations

import random
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from engage.adapters.dynamo.campaigns import CAMPAIGN_SK
from engage.adapters.dynamo.keys import (
    active_campaigns_pk,
    campaign_pk,
    counter_pk,
    counter_position_pk,
    report_pk,
)
from engage.adapters.dynamo.table import Item, Table, Update
from engage.core.errors import StorageError
from engage.core.observability import logger
from engage.core.time import iso
from engage.metrics.counters import (
    NO_DIMENSION,
    BatchCount,
    CountedChange,
    StreamChange,
    position_value,
    tally,
)
from engage.metrics.funnel import MetricsConfig

SHARDS = 16
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit
POSITION_SK = "P"
RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
MAX_ATTEMPTS = 8
DAY_SCOPE = "DAY"


def campaign_scope(campaign_id: str) -> str:
    return f"CAMP#{campaign_id}"


def shard_of(*parts: str, shards: int = SHARDS) -> int:
    """Stable shard of a send (or click): replays of the same send hit the same items."""
    return zlib.crc32("|".join(parts).encode()) % shards


class CounterRepository:
    def __init__(self, table: Table, *, shards: int = SHARDS, sleep: Callable[[float], None] = time.sleep):
        self.table = table
        self.shards = shards
        self._sleep = sleep
        self._noted: set[tuple[str, str]] = set()  # (day, campaign) already in the activity index

    # ---------------------------------------------------------------- writing
    def counter_updates(
        self,
        *,
        campaign_id: str | None,
        variant: str,
        segment_id: str,
        day: str,
        shard: int,
        attributes: Counter[str],
    ) -> list[dict[str, Any]]:
        """Transaction actions adding `attributes` to the campaign item and the day item."""
        targets = [(counter_pk(DAY_SCOPE, shard), f"{day}#{segment_id}", {"day": day, "segment_id": segment_id})]
        if campaign_id:
            scope = counter_pk(campaign_scope(campaign_id), shard)
            targets.append((scope, f"{day}#{variant}", {"day": day, "variant": variant, "campaign_id": campaign_id}))
        return [self.counter_update(pk, sk, fields, attributes) for pk, sk, fields in targets]

    def position(self, lane: str) -> int | None:
        """The last stream position of `lane` whose transitions are counted (strongly consistent)."""
        item = self.table.get(counter_position_pk(lane), POSITION_SK)
        return int(item["position"]) if item and "position" in item else None

    def batch_updates(self, changes: list[CountedChange], shard: int) -> list[dict[str, Any]]:
        """One ADD per counter item for the changes' totals (the day item is shared by campaigns)."""
        items: dict[tuple[str, str], tuple[dict[str, Any], Counter[str]]] = {}
        for key, attributes in tally(changes).items():
            targets = [
                (
                    counter_pk(DAY_SCOPE, shard),
                    f"{key.day}#{key.segment_id}",
                    {"day": key.day, "segment_id": key.segment_id},
                )
            ]
            if key.campaign_id:
                fields = {"day": key.day, "variant": key.variant, "campaign_id": key.campaign_id}
                targets.append((counter_pk(campaign_scope(key.campaign_id), shard), f"{key.day}#{key.variant}", fields))
            for pk, sk, fields in targets:
                items.setdefault((pk, sk), (fields, Counter()))[1].update(attributes)
        return [self.counter_update(pk, sk, fields, totals) for (pk, sk), (fields, totals) in items.items()]

    def counter_update(self, pk: str, sk: str, fields: dict[str, Any], attributes: Counter[str]) -> dict[str, Any]:
        update = Update().set(type="counter", **fields).add(**dict(attributes))
        return {"Update": update.request(pk, sk, table=self.table.name)}

    def _position_update(self, lane: str, previous: int | None, reached: str, now: datetime) -> dict[str, Any]:
        """Moves the lane's position from `previous` to `reached`, only if nobody moved it meanwhile."""
        update = Update().set(type="counter_position", position=int(reached), lane=lane, updated_at=iso(now))
        condition = "attribute_not_exists(#p)" if previous is None else f"#p = {update.value(previous)}"
        update.names["#p"] = "position"
        return {"Update": update.request(counter_position_pk(lane), POSITION_SK, condition, table=self.table.name)}

    def chunks(self, records: list[StreamChange]) -> Iterator[list[StreamChange]]:
        """Consecutive runs of records whose counter items fit one transaction beside the position."""
        run: list[StreamChange] = []
        items: set[tuple[str, str]] = set()
        for record in records:
            mine = set(items_of(record.change)) if record.change else set()
            if run and len(items | mine) > MAX_TRANSACTION_ITEMS - 1:
                yield run
                run, items = [], set()
            run.append(record)
            items |= mine
        if run:
            yield run

    def apply_batch(self, lane: str, records: list[StreamChange], now: datetime) -> BatchCount:
        """One transaction per run of records (one for any ordinary batch): an ADD on each counter
        item the run touches, and the lane's position moved to the run's last record, conditional on
        the position read. A replay finds its records at or below the position and skips them; a
        crash before the commit leaves both unwritten, a crash after it both written."""
        result = BatchCount()
        shard = shard_of(lane, shards=self.shards)
        applied = self.position(lane)
        pending = list(self.chunks(records))
        while pending:
            run = pending[0]
            # Records come in stream order: the run's records past the position are its fresh tail.
            start = next(
                (i for i, r in enumerate(run) if applied is None or position_value(r.position) > applied), None
            )
            if start is None:
                result.replayed += sum(len(r.change.transitions) for r in run if r.change)
                pending.pop(0)
                continue
            fresh = run[start:]
            changes = [r.change for r in fresh if r.change]
            actions = self.batch_updates(changes, shard)
            actions.append(self._position_update(lane, applied, fresh[-1].position, now))
            try:
                moved = self.transact(actions)
            except Exception:  # noqa: BLE001 - the stream retries from this record; earlier runs are in
                logger.exception("counter batch failed", extra={"lane": lane, "position": fresh[0].position})
                result.failed_at = fresh[0].position
                return result
            if moved:  # another invocation moved the position meanwhile: read it again, redo this run
                applied = self.position(lane)
                continue
            result.replayed += sum(len(r.change.transitions) for r in run[:start] if r.change)
            result.counted += sum(len(c.transitions) for c in changes)
            applied = position_value(fresh[-1].position)
            pending.pop(0)
            for change in changes:
                if change.campaign_id:
                    self.note_active(change.campaign_id, change.day, now)
        return result

    def transact(self, actions: list[dict[str, Any]]) -> list[int]:
        """Writes all actions at once. Returns the indexes whose condition failed (then nothing was written).

        Conflicts with a concurrent transaction on the same counter item and throttling are retried
        with jittered backoff; anything else is raised, so the stream record is retried.
        """
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.table.client.transact_write_items(TransactItems=actions)
                return []
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                reasons = [r.get("Code") or "None" for r in error.response.get("CancellationReasons", [])]
                failed = [i for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"]
                if failed:
                    return failed
                if code not in RETRYABLE and not RETRYABLE & set(reasons):
                    raise
            self._sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not crypto
        raise StorageError(f"counter transaction still conflicting after {MAX_ATTEMPTS} attempts")

    def note_active(self, campaign_id: str, day: str, now: datetime) -> None:
        """Puts the campaign in the day's activity index (once per process and day: idempotent)."""
        if (day, campaign_id) in self._noted:
            return
        update = Update().set(type="active_campaign", campaign_id=campaign_id, day=day)
        update.set_if_absent(first_seen_at=iso(now))
        self.table.update(active_campaigns_pk(day), f"CAMP#{campaign_id}", update)
        self._noted.add((day, campaign_id))

    # ---------------------------------------------------------------- reading
    def campaign_rows(self, campaign_id: str) -> list[Item]:
        """Every counter item of the campaign: one query per shard."""
        rows: list[Item] = []
        for shard in range(self.shards):
            rows.extend(self.table.query(counter_pk(campaign_scope(campaign_id), shard)))
        return rows

    def daily_rows(self, from_day: str, to_day: str) -> list[Item]:
        """Every day x segment item between the days (inclusive): one query per shard."""
        rows: list[Item] = []
        for shard in range(self.shards):
            rows.extend(self.table.query(counter_pk(DAY_SCOPE, shard), sk_between=(from_day, f"{to_day}~")))
        return rows

    def active_campaigns(self, days: Iterable[str]) -> dict[str, str]:
        """campaign id -> first time it was seen, over the given cohort days."""
        found: dict[str, str] = {}
        for day in days:
            for item in self.table.query(active_campaigns_pk(day)):
                seen = str(item.get("first_seen_at", ""))
                campaign_id = str(item["campaign_id"])
                found[campaign_id] = min(found.get(campaign_id, seen), seen)
        return found

    def campaign_meta(self, campaign_id: str) -> Item | None:
        """The campaign item (id, name, status, launched_at, segment_id, ...)."""
        return self.table.get(campaign_pk(campaign_id), CAMPAIGN_SK, consistent=False)

    def config(self) -> MetricsConfig:
        item = self.table.get("CONFIG", "metrics", consistent=False) or {}
        document = item.get("document", {k: v for k, v in item.items() if k not in ("pk", "sk", "type")})
        return MetricsConfig.from_document(document)

    # ---------------------------------------------------------------- 24-hour reports
    def put_report(self, campaign_id: str, report: dict[str, Any]) -> bool:
        item = {"pk": report_pk(campaign_id), "sk": "24h", "type": "campaign_report", **report}
        return self.table.put(item, if_absent=True)

    def get_report(self, campaign_id: str) -> Item | None:
        return self.table.get(report_pk(campaign_id), "24h", consistent=False)


def no_dimension(value: str | None) -> str:
    return value or NO_DIMENSION


def items_of(change: CountedChange) -> list[tuple[str, str]]:
    """(scope, sort key) of the counter items a change adds to (before sharding)."""
    found = [(DAY_SCOPE, f"{change.day}#{change.segment_id}")]
    if change.campaign_id:
        found.append((campaign_scope(change.campaign_id), f"{change.day}#{change.variant}"))
    return found

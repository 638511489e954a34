"""Sharded, exactly-once counters in the single table.

Items (see docs/data-model.md):
- `CNT#CAMP#<campaign>#<shard>` / `<day>#<variant>`: a campaign's counts per cohort day and variant;
- `CNT#DAY#<shard>` / `<day>#<segment>`: every send's counts per cohort day and segment;
- `CNTMARK#<customer>#<send key>#<metric>` / `M`: "this send's metric is counted" (TTL 40 days);
- `CNTIDX#<day>` / `CAMP#<campaign>`: campaigns with activity that day (for the hourly jobs);
- `REPORT#<campaign>` / `24h`: the 24-hour report.

One counted change is ONE transaction: a conditional put of each transition's marker plus an ADD
on the two counter items it belongs to. A replay finds its markers and the transaction is
cancelled as a whole; the cancellation reasons say which markers exist, and the rest (if any) is
retried without them. A counter is spread over `shards` items by a hash of the send, so no item
takes more than 1/shards of the writes; readers query every shard and add up.
"""

from __future__ import annotations

import random
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from engage.adapters.dynamo.campaigns import CAMPAIGN_SK
from engage.adapters.dynamo.keys import (
    active_campaigns_pk,
    campaign_pk,
    counter_mark_pk,
    counter_pk,
    report_pk,
)
from engage.adapters.dynamo.table import Item, Table, Update
from engage.core.errors import StorageError
from engage.core.time import epoch, iso
from engage.metrics.counters import NO_DIMENSION, CountedChange, Transition
from engage.metrics.funnel import MetricsConfig

SHARDS = 16
MARK_TTL = timedelta(days=40)  # > the stream's 24 h retention and any retry; see docs/metrics.md
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
        actions = []
        for pk, sk, fields in targets:
            update = Update().set(type="counter", **fields).add(**dict(attributes))
            body: dict[str, Any] = {
                "TableName": self.table.name,
                "Key": {"pk": pk, "sk": sk},
                "UpdateExpression": update.expression(),
                "ExpressionAttributeNames": update.names,
                "ExpressionAttributeValues": update.values,
            }
            actions.append({"Update": body})
        return actions

    def _marker(self, change: CountedChange, transition: Transition, now: datetime) -> dict[str, Any]:
        item = {
            "pk": counter_mark_pk(change.customer_id, change.send_key, transition.metric),
            "sk": "M",
            "type": "counter_mark",
            "counted_at": iso(now),
            "day": change.day,
            "expires_at": epoch(now + MARK_TTL),
        }
        return {"Put": {"TableName": self.table.name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def apply(self, change: CountedChange, now: datetime) -> list[str]:
        """Counts each transition once (markers); returns the metrics counted by this call."""
        pending = list(change.transitions)
        shard = shard_of(change.customer_id, change.send_key, shards=self.shards)
        while pending:
            attributes: Counter[str] = Counter(a for t in pending for a in t.attributes())
            actions = [self._marker(change, t, now) for t in pending]
            actions += self.counter_updates(
                campaign_id=change.campaign_id,
                variant=change.variant,
                segment_id=change.segment_id,
                day=change.day,
                shard=shard,
                attributes=attributes,
            )
            already = set(self.transact(actions))
            if not already:
                break
            pending = [t for i, t in enumerate(pending) if i not in already]
        if pending and change.campaign_id:
            self.note_active(change.campaign_id, change.day, now)
        return [t.metric for t in pending]

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

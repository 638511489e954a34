"""Saved segments, their daily sizes, and campaign audience snapshots.

SEGMENTS / SEG#<id>              the saved segment (name, rule, text, description, owner, last count)
SEGMENTS / STATS                 {base_size, counted_at}: the nightly base-size estimate for the planner
SEG#<id> / SIZE#<yyyy-mm-dd>     {count, at}: the segment's size that day (nightly segment-sizes job)
CAMP#<campaign_id> / AUD#<cid>   {customer_id, why}: in the campaign's audience at launch, and why
CAMP#<campaign_id> / AUDIENCE    the snapshot's summary (count, rule, segment, taken_at); written last
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from engage.adapters.dynamo.keys import (
    AUDIENCE_SUMMARY_SK,
    SEGMENT_STATS_SK,
    SEGMENTS_PK,
    audience_pk,
    audience_sk,
    segment_size_sk,
    segment_sizes_pk,
    segment_sk,
)
from engage.adapters.dynamo.table import Table
from engage.core.time import epoch, utcnow

KEYS = ("pk", "sk", "type")


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in KEYS}


class SegmentRepository:
    def __init__(self, table: Table):
        self.table = table

    def _item(self, segment: dict[str, Any]) -> dict[str, Any]:
        return {"pk": SEGMENTS_PK, "sk": segment_sk(segment["id"]), "type": "segment", **segment}

    def create(self, item: dict[str, Any]) -> bool:
        return self.table.put(self._item(item), if_absent=True)

    def get(self, segment_id: str) -> dict[str, Any] | None:
        item = self.table.get(SEGMENTS_PK, segment_sk(segment_id))
        return _strip(item) if item else None

    def list_all(self) -> list[dict[str, Any]]:
        return [_strip(item) for item in self.table.query(SEGMENTS_PK, sk_prefix="SEG#")]

    def save(self, item: dict[str, Any]) -> None:
        self.table.put(self._item(item))

    def delete(self, segment_id: str) -> bool:
        """Deletes the segment and its size history; False when there was no such segment."""
        if self.get(segment_id) is None:
            return False
        sizes = [(i["pk"], i["sk"]) for i in self.table.query(segment_sizes_pk(segment_id), sk_prefix="SIZE#")]
        self.table.batch_delete([(SEGMENTS_PK, segment_sk(segment_id)), *sizes])
        return True

    def record_size(self, segment_id: str, day: str, count: int, *, at: str) -> None:
        self.table.put(
            {
                "pk": segment_sizes_pk(segment_id),
                "sk": segment_size_sk(day),
                "type": "segment_size",
                "segment_id": segment_id,
                "day": day,
                "count": count,
                "at": at,
            }
        )

    def sizes(self, segment_id: str, *, limit: int = 30) -> list[dict[str, Any]]:
        """The most recent daily sizes, newest first."""
        items = self.table.query(segment_sizes_pk(segment_id), sk_prefix="SIZE#", forward=False, limit=limit)
        return [{"day": i["day"], "count": i["count"]} for i in items]

    def save_stats(self, stats: dict[str, Any]) -> None:
        self.table.put({"pk": SEGMENTS_PK, "sk": SEGMENT_STATS_SK, "type": "segment_stats", **stats})


class SnapshotRepository:
    def __init__(self, table: Table, retention_days: int = 180):
        self.table = table
        self.retention = timedelta(days=retention_days)

    def summary(self, campaign_id: str) -> dict[str, Any] | None:
        item = self.table.get(audience_pk(campaign_id), AUDIENCE_SUMMARY_SK)
        return _strip(item) if item else None

    def put_summary(self, campaign_id: str, summary: dict[str, Any]) -> bool:
        item = {"pk": audience_pk(campaign_id), "sk": AUDIENCE_SUMMARY_SK, "type": "audience_summary", **summary}
        return self.table.put(item, if_absent=True)

    def write_members(self, campaign_id: str, members: dict[str, list[str]]) -> None:
        pk = audience_pk(campaign_id)
        expires_at = epoch(utcnow() + self.retention)  # the members expire; the summary stays for reports
        self.table.batch_put(
            {
                "pk": pk,
                "sk": audience_sk(cid),
                "type": "audience",
                "customer_id": cid,
                "why": why,
                "expires_at": expires_at,
            }
            for cid, why in members.items()
        )

    def member_ids(self, campaign_id: str) -> set[str]:
        items = self.table.query(audience_pk(campaign_id), sk_prefix="AUD#", consistent=True)
        return {i["customer_id"] for i in items}

    def remove_members(self, campaign_id: str, customer_ids: Iterable[str]) -> None:
        pk = audience_pk(campaign_id)
        self.table.batch_delete((pk, audience_sk(cid)) for cid in customer_ids)

    def page(self, campaign_id: str, after: str | None, limit: int) -> list[str]:
        """Up to `limit` customer ids in id order, strictly after `after`."""
        start = audience_sk(after) if after else "AUD#"
        items = self.table.query(
            audience_pk(campaign_id), sk_between=(start, "AUD#~"), consistent=True, limit=limit + 1
        )
        ids = [i["customer_id"] for i in items if i["sk"] != start]
        return ids[:limit]

"""Exactly-once counters from send-item transitions.

A send item changes many times (intent, sent, delivered, read, replied, clicked, ...). The metrics
function sees every change on the table's stream with both images. A metric counts when its
predicate turns true: false in the old image, true in the new one. A stream batch's changes are
added up in memory (`tally`) and the storage adapter writes each counter once per batch, with the
stream position it reached in the same transaction, so a replayed record is skipped and each
transition counts once (see docs/metrics.md). Nothing here talks to AWS.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engage.core.time import from_epoch, iso, utcnow
from engage.metrics.ports import CounterStore

Image = Mapping[str, Any]

# Funnel counters, in display order. `clicks` (every human click) comes from the click route.
FUNNEL = ("sent", "delivered", "read", "replied", "clicked", "failed", "opted_out")
COUNTS = (*FUNNEL, "clicks", "deferred", "refused")
# Breakdown attributes: "<metric>:<detail>", e.g. "failed:131026", "refused:no_consent".
DETAILED = ("failed", "deferred", "refused")
NO_DIMENSION = "-"

_DETAIL_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _has(image: Image, name: str) -> bool:
    return bool(image.get(name))


def _status_in(image: Image, *statuses: str) -> bool:
    return image.get("status") in statuses


PREDICATES: dict[str, Callable[[Image], bool]] = {
    # Accepted by WhatsApp: the sender stamps sent_at; a status webhook may get there first.
    "sent": lambda i: _has(i, "sent_at") or i.get("state") == "sent" or _status_in(i, "sent", "delivered", "read"),
    # `read` implies delivered: WhatsApp skips the delivered status when a message is read at once.
    "delivered": lambda i: _has(i, "delivered_at") or _has(i, "read_at") or _status_in(i, "delivered", "read"),
    "read": lambda i: _has(i, "read_at") or _status_in(i, "read"),
    # A send that was read is never also failed (a late `failed` status does not undo a read).
    "failed": lambda i: (
        (_has(i, "failed_at") or i.get("state") == "failed" or _status_in(i, "failed"))
        and not (_has(i, "read_at") or _status_in(i, "read"))
    ),
    "replied": lambda i: _has(i, "replied_at"),
    "clicked": lambda i: _has(i, "clicked_at"),
    "opted_out": lambda i: _has(i, "opted_out_at"),
    # Once deferred, always counted as deferred: the sender carries `deferred_once` onto the send's
    # later writes, so a send deferred again (after an intent) is not a second deferral.
    "deferred": lambda i: i.get("state") == "deferred" or bool(i.get("deferred_once")),
    "refused": lambda i: i.get("state") == "refused",
}

# The send's own time of each transition, used when the send has no sent_at yet.
OWN_TIME = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "failed": "failed_at",
    "replied": "replied_at",
    "clicked": "clicked_at",
    "opted_out": "opted_out_at",
    "deferred": "deferred_at",
    "refused": "refused_at",
}


def clean_detail(value: Any) -> str:
    text = _DETAIL_SAFE.sub("_", str(value or "").strip())[:40]
    return text or "unknown"


@dataclass(frozen=True)
class Transition:
    metric: str
    detail: str | None = None

    def attributes(self) -> list[str]:
        """Counter attributes this transition adds one to."""
        if self.metric in DETAILED:
            return [self.metric, f"{self.metric}:{self.detail or 'unknown'}"]
        return [self.metric]


@dataclass(frozen=True)
class CountedChange:
    """What one send-item change adds to the counters, with the dimensions it is counted under."""

    customer_id: str
    send_key: str
    campaign_id: str | None
    variant: str
    segment_id: str
    day: str  # cohort day (yyyy-mm-dd) of the send
    transitions: tuple[Transition, ...] = field(default_factory=tuple)


def detail_of(metric: str, image: Image) -> str | None:
    if metric == "failed":
        return clean_detail(image.get("error_code"))
    if metric in ("deferred", "refused"):
        return clean_detail(image.get("reason"))
    return None


def transitions(old: Image | None, new: Image | None) -> list[Transition]:
    """Metrics whose predicate is false in `old` (or no old image) and true in `new`."""
    if not new:
        return []
    before = old or {}
    return [
        Transition(metric, detail_of(metric, new))
        for metric, holds in PREDICATES.items()
        if holds(new) and not holds(before)
    ]


def cohort_day(image: Image, found: list[Transition], at: datetime) -> str:
    """The day a send belongs to: its sent_at, else the transition's own time, else the change time."""
    for name in ("sent_at", *(OWN_TIME[t.metric] for t in found)):
        value = image.get(name)
        if isinstance(value, str) and len(value) >= 10:
            return value[:10]
    return iso(at)[:10]


def change_of(old: Image | None, new: Image | None, at: datetime) -> CountedChange | None:
    """The counted change of one send item (`old` -> `new`), or None when it counts nothing.

    Both are send items (`customer_id`, `send_key`, ...): the stream's edge picks them out of the
    table's changes (engage.adapters.dynamo.streams.send_item_change)."""
    found = transitions(old, new)
    if not found or not new:
        return None
    image = new
    return CountedChange(
        customer_id=str(image["customer_id"]),
        send_key=str(image["send_key"]),
        campaign_id=image.get("campaign_id") or None,
        variant=str(image.get("variant") or NO_DIMENSION),
        segment_id=str(image.get("segment_id") or NO_DIMENSION),
        day=cohort_day(image, found, at),
        transitions=tuple(found),
    )


@dataclass(frozen=True)
class CounterKey:
    """The counter items one change adds to: its campaign x day x variant, and its day x segment."""

    campaign_id: str | None
    variant: str
    segment_id: str
    day: str


@dataclass(frozen=True)
class StreamChange:
    """One stream record: its position (sequence number) and what it counts (None: nothing)."""

    position: str
    change: CountedChange | None


@dataclass
class BatchCount:
    """What a batch did: transitions counted now, transitions of records already applied (replays),
    and the position of the first record not applied when a write failed (None: all done)."""

    counted: int = 0
    replayed: int = 0
    failed_at: str | None = None


def key_of(change: CountedChange) -> CounterKey:
    return CounterKey(change.campaign_id, change.variant, change.segment_id, change.day)


def tally(changes: Iterable[CountedChange]) -> dict[CounterKey, Counter[str]]:
    """The batch's transitions added up per counter item (one write each, whatever the batch size)."""
    totals: dict[CounterKey, Counter[str]] = {}
    for change in changes:
        counts = totals.setdefault(key_of(change), Counter())
        for transition in change.transitions:
            counts.update(transition.attributes())
    return totals


def position_value(position: str) -> int:
    """Stream sequence numbers are decimal strings of up to 40 digits, increasing within a shard."""
    return int(position)


def stream_change(position: str, old: Image | None, new: Image | None, approximate_epoch: int | None) -> StreamChange:
    at = from_epoch(approximate_epoch) if approximate_epoch else utcnow()
    return StreamChange(position, change_of(old, new, at))


def count_batch(store: CounterStore, lane: str, records: list[StreamChange], now: datetime) -> BatchCount:
    """Counts a stream batch (records in stream order) exactly once. Safe to call again with any
    replay of it: records at or below the lane's applied position are skipped."""
    return store.apply_batch(lane, records, now)


# ---------------------------------------------------------------- reading


def is_count_attribute(name: str) -> bool:
    return name in COUNTS or name.split(":", 1)[0] in DETAILED


def add_up(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Sums the counter attributes of counter items (the shards of one or more scopes)."""
    total = dict.fromkeys(COUNTS, 0)
    for row in rows:
        for name, value in row.items():
            if is_count_attribute(name) and isinstance(value, int | float):
                total[name] = total.get(name, 0) + int(value)
    return total


def breakdown(counts: Mapping[str, int], metric: str) -> dict[str, int]:
    """{"131026": 3, ...} from the "failed:131026" attributes."""
    prefix = f"{metric}:"
    return {k.removeprefix(prefix): v for k, v in sorted(counts.items()) if k.startswith(prefix) and v}

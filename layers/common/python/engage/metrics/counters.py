"""Exactly-once counters from send-item transitions.

A send item changes many times (intent, sent, delivered, read, replied, clicked, ...). The metrics
function sees every change on the table's stream with both images. A metric counts when its
predicate turns true: false in the old image, true in the new one. The storage adapter then
counts each (send, metric) at most once, whatever the replays, retries or duplicate statuses
(see docs/metrics.md). Nothing here talks to AWS.
"""

from __future__ import annotations

import re
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
    "deferred": lambda i: i.get("state") == "deferred",
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


def count_change(store: CounterStore, old: Image | None, new: Image | None, *, at: datetime) -> list[str]:
    """Counts one send-item change. Safe to call again with the same change (replays)."""
    change = change_of(old, new, at)
    if change is None:
        return []
    return store.apply(change, at)


def count_record(
    store: CounterStore, old: Image | None, new: Image | None, approximate_epoch: int | None
) -> tuple[list[str], int]:
    """One send-item change of the stream: (metrics counted now, transitions found already counted)."""
    at = from_epoch(approximate_epoch) if approximate_epoch else utcnow()
    change = change_of(old, new, at)
    if change is None:
        return [], 0
    counted = store.apply(change, at)
    return counted, len(change.transitions) - len(counted)


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

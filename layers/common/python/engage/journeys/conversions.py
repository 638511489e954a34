"""Posting the conversions outbox to Meta's Conversions API (business messaging), every 5 minutes.

A goal reached within 7 days of a click-to-WhatsApp ad is put in the outbox once per run (its
`event_id` is the run's id, `journey:<run>`). `post_due` takes the events that are due, claims each
for a short lease (a second worker running at the same time skips it), posts it and then marks it:
- accepted (2xx with `events_received`): sent, never posted again;
- a passing failure (timeout, 429, 5xx, Graph's transient codes): due again after a backoff;
- refused (any other 4xx): dropped, with Meta's reason kept on the item.
A crash after the post and before the mark posts the event again when its lease ends; Meta
de-duplicates by `event_id` (the same id, event name and dataset). Meta takes business messaging
events up to 7 days old: an event older than that is dropped as `expired` instead of posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from engage.core.observability import logger

LEASE = timedelta(minutes=2)  # a claimed event is due again after this (its worker died)
MAX_AGE = timedelta(days=7)  # Meta refuses business messaging events older than this
FIRST_RETRY = timedelta(minutes=5)
LAST_RETRY = timedelta(hours=6)
PAGE = 100  # events per run; the next run takes the rest


@dataclass(frozen=True)
class Pending:
    """One outbox event, as the due index shows it (`due` is its place there)."""

    day: str
    event_id: str
    event: dict[str, Any]
    attempts: int
    due: str


@dataclass(frozen=True)
class PostResult:
    outcome: Literal["accepted", "retry", "refused"]
    reason: str = ""


class ConversionsApi(Protocol):
    def post(self, event: dict[str, Any]) -> PostResult:
        """POSTs one event to the dataset's `/events`; never raises for what Graph answers."""
        ...


class ConversionQueue(Protocol):
    """The outbox's due events (adapters/dynamo/journeys.ConversionOutbox)."""

    def due(self, now: datetime, limit: int) -> list[Pending]: ...

    def claim(self, pending: Pending, until: datetime) -> Pending | None:
        """Moves the event's due time to `until` if it is still where `pending` saw it (the event as
        claimed); None: another worker took it."""
        ...

    def sent(self, pending: Pending, at: datetime) -> None: ...

    def retry(self, pending: Pending, at: datetime, reason: str) -> None:
        """Due again at `at`, one attempt more, with the reason of this failure."""
        ...

    def drop(self, pending: Pending, reason: str, now: datetime) -> None: ...


def backoff(attempts: int) -> timedelta:
    """5 minutes, doubled per failed attempt, at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LAST_RETRY)


def post_due(queue: ConversionQueue, api: ConversionsApi | None, now: datetime, limit: int = PAGE) -> dict[str, int]:
    summary = {"accepted": 0, "retry": 0, "refused": 0, "expired": 0, "skipped": 0}
    if api is None:  # not configured: the events wait in the outbox
        return summary | {"waiting": len(queue.due(now, limit))}
    for seen in queue.due(now, limit):
        pending = queue.claim(seen, now + LEASE)
        if pending is None:
            summary["skipped"] += 1
            continue
        event_time = datetime.fromtimestamp(int(pending.event.get("event_time", 0)), tz=now.tzinfo)
        if event_time < now - MAX_AGE:
            queue.drop(pending, "expired: older than 7 days", now)
            summary["expired"] += 1
            continue
        result = api.post(pending.event)
        if result.outcome == "accepted":
            queue.sent(pending, now)
        elif result.outcome == "retry":
            queue.retry(pending, now + backoff(pending.attempts + 1), result.reason)
        else:
            queue.drop(pending, result.reason, now)
            logger.warning("conversion refused", extra={"event_id": pending.event_id, "reason": result.reason})
        summary[result.outcome] += 1
    return summary

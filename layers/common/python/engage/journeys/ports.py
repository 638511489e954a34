"""The ports the journeys capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engage.core.ports import Queue
from engage.customers.profiles import Customer
from engage.delivery.config import SendingConfig
from engage.inbound.history import HistoryEvent
from engage.journeys.model import Journey
from engage.journeys.runs import Run


class JourneyStore(Protocol):
    def get(self, journey_id: str) -> Journey | None:
        """The current version."""
        ...

    def version(self, journey_id: str, version: int) -> Journey | None:
        """A stored version (runs finish on the version they started)."""
        ...

    def all(self) -> list[Journey]: ...

    def create(self, journey: Journey) -> bool:
        """Put-if-absent of the journey and its first version; False when the id is taken."""
        ...

    def save(self, journey: Journey, *, expected_version: int) -> bool:
        """Writes the journey (and its version item when the version is new), if the stored one is
        still `expected_version`; False otherwise (a concurrent edit)."""
        ...

    def delete(self, journey_id: str) -> bool: ...

    def installed(self, release: int) -> bool:
        """Whether this release of the default journeys was installed."""
        ...

    def mark_installed(self, release: int, at: str) -> None: ...


class RunStore(Protocol):
    def get(self, customer_id: str, journey_id: str) -> Run | None: ...

    def of_customer(self, customer_id: str) -> list[Run]:
        """Every run item of the customer (one per journey: the current or the last one)."""
        ...

    def enter(self, run: Run, *, reentry_before: str | None) -> bool:
        """Put-if-absent, or over an ended run that ended at or before `reentry_before` (None: never
        over an ended run). Counts `entered` with it, atomically. False: nothing written."""
        ...

    def advance(
        self, run: Run, *, expected_seq: int, counts: dict[str, int], history: HistoryEvent | None = None
    ) -> bool:
        """Writes the run (its step, state, due time) if the stored one is still at `expected_seq`,
        and adds `counts` to the journey's counters and puts `history` in the same transaction.
        False: someone else moved it first; nothing written."""
        ...

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(customer_id, journey_id) of runs whose due time has come, from one shard of the due index."""
        ...

    def add_revenue(self, run: Run, order_id: str, amount: float) -> bool:
        """Counts an order's amount once per (run, order)."""
        ...

    def counters(self, journey_id: str) -> dict[str, int | float]: ...


class Profiles(Protocol):
    """What a branch and a send window need to know of one customer."""

    def get(self, customer_id: str) -> Customer | None: ...

    def tags(self, customer_id: str) -> set[str]: ...

    def orders_between(self, customer_id: str, since: str, until: str) -> int: ...

    def first_message_id(self, customer_id: str) -> str | None:
        """The event id of the customer's earliest inbound message (the first-inbound trigger)."""
        ...

    def ad_click(self, customer_id: str, *, since: str) -> tuple[str, str] | None:
        """(ctwa_clid, clicked_at) of the customer's last click-to-WhatsApp ad referral since `since`."""
        ...


class TagWriter(Protocol):
    def change(
        self, customer_id: str, add: list[str], remove: list[str], *, source: str, event_id: str, at: str
    ) -> None:
        """Idempotent per (customer, tag, action, event_id)."""
        ...


class CouponIssuer(Protocol):
    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        """A code for the customer, the same one for the same (pool, customer, reason); None: none left."""
        ...


class History(Protocol):
    def put(self, customer_id: str, kind: str, event_id: str, occurred_at: str, data: dict[str, Any]) -> bool:
        """A history item (`EVT#...`), put-if-absent on (customer, kind, event_id)."""
        ...


class Conversions(Protocol):
    def report(self, event: dict[str, Any]) -> None:
        """One conversion event for Meta's Conversions API (business messaging), idempotent by `event_id`."""
        ...


class BaseReader(Protocol):
    """The customer base in pages (the customers index, 16 shards) and the queue of sweep pages."""

    def profiles(self, shard: int, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]: ...

    def queue_pages(self, pages: list[dict[str, Any]]) -> None: ...


class SegmentSource(Protocol):
    def members(self, segment_id: str, now: datetime) -> list[str]:
        """The saved segment's members now (none when it no longer exists)."""
        ...


class SendingConfigSource(Protocol):
    def sending(self) -> SendingConfig: ...


@dataclass(frozen=True)
class JourneyPorts:
    journeys: JourneyStore
    runs: RunStore
    profiles: Profiles
    tags: TagWriter
    coupons: CouponIssuer
    history: History
    conversions: Conversions
    queue: Queue
    config: SendingConfigSource


def ids(runs: Iterable[Run]) -> list[str]:
    return [r.journey_id for r in runs]

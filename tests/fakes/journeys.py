"""In-memory fakes of the journeys ports, with the adapters' conditional-write semantics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from engage.core.time import iso
from engage.customers.profiles import Customer
from engage.inbound.history import HistoryEvent
from engage.journeys.conversions import Pending
from engage.journeys.model import Journey
from engage.journeys.ports import JourneyPorts
from engage.journeys.runs import Run
from tests.fakes.sending import FakeConfig, FakeCustomers, FakeQueue


class FakeJourneys:
    def __init__(self) -> None:
        self.items: dict[str, Journey] = {}
        self.versions: dict[tuple[str, int], Journey] = {}
        self.releases: set[int] = set()

    def get(self, journey_id: str) -> Journey | None:
        return self.items.get(journey_id)

    def version(self, journey_id: str, version: int) -> Journey | None:
        return self.versions.get((journey_id, version))

    def all(self) -> list[Journey]:
        return list(self.items.values())

    def create(self, journey: Journey) -> bool:
        if journey.id in self.items:
            return False
        self.items[journey.id] = journey
        self.versions[(journey.id, journey.version)] = journey
        return True

    def save(self, journey: Journey, *, expected_version: int) -> bool:
        current = self.items.get(journey.id)
        if current is None or current.version != expected_version:
            return False
        self.items[journey.id] = journey
        self.versions[(journey.id, journey.version)] = journey
        return True

    def delete(self, journey_id: str) -> bool:
        return self.items.pop(journey_id, None) is not None

    def installed(self, release: int) -> bool:
        return release in self.releases

    def mark_installed(self, release: int, at: str) -> None:
        self.releases.add(release)


class FakeRuns:
    """Runs keyed by (customer, journey); `crash_after_effects` makes the next advance fail as a
    crash would (the effects happened, the write did not)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Run] = {}
        self.by_customer: dict[str, dict[str, Run]] = defaultdict(dict)  # the customer's partition
        self.counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.revenue_seen: set[tuple[str, str, str]] = set()
        self.crash_next = 0
        self.writes = 0
        self.history = FakeHistory()  # JourneyWorld shares its own: the same transaction as the run

    def get(self, customer_id: str, journey_id: str) -> Run | None:
        return self.items.get((customer_id, journey_id))

    def of_customer(self, customer_id: str) -> list[Run]:
        runs = self.by_customer.get(customer_id, {})
        return [runs[jid] for jid in sorted(runs)]

    def enter(self, run: Run, *, reentry_before: str | None) -> bool:
        key = (run.customer_id, run.journey_id)
        previous = self.items.get(key)
        if previous is not None:
            ok = (
                previous.state == "done"
                and reentry_before is not None
                and (previous.ended_at or "") <= reentry_before
                and previous.trigger_id != run.trigger_id
                and previous.run_no == run.run_no - 1
            )
            if not ok:
                return False
        self.items[key] = self.by_customer[run.customer_id][run.journey_id] = run
        self.counts[run.journey_id]["entered"] += 1
        self.counts[run.journey_id][f"at:{run.step}"] += 1
        self.writes += 1
        return True

    def advance(
        self, run: Run, *, expected_seq: int, counts: dict[str, int], history: HistoryEvent | None = None
    ) -> bool:
        if self.crash_next:
            self.crash_next -= 1
            raise RuntimeError("crashed before the write")
        key = (run.customer_id, run.journey_id)
        stored = self.items.get(key)
        if stored is None or stored.seq != expected_seq or stored.run_no != run.run_no:
            return False
        self.items[key] = self.by_customer[run.customer_id][run.journey_id] = run
        for name, n in counts.items():
            self.counts[run.journey_id][name] += n
        if history is not None:
            self.history.add(history)
        self.writes += 1
        return True

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        found = sorted(
            (r.due_at, r.customer_id, r.journey_id)
            for r in self.items.values()
            if r.state != "done" and r.due_at and r.due_at <= iso(now) and r.shard == shard
        )
        return [(cid, jid) for _, cid, jid in found[:limit]]

    def add_revenue(self, run: Run, order_id: str, amount: float) -> bool:
        key = (run.customer_id, run.run_id, order_id)
        if key in self.revenue_seen:
            return False
        self.revenue_seen.add(key)
        self.counts[run.journey_id]["revenue"] += amount
        return True

    def counters(self, journey_id: str) -> dict[str, int | float]:
        return dict(self.counts[journey_id])


class FakeProfiles:
    def __init__(self, customers: FakeCustomers) -> None:
        self.customers = customers
        self.tag_sets: dict[str, set[str]] = defaultdict(set)
        self.orders: dict[str, list[str]] = defaultdict(list)
        self.first_messages: dict[str, str] = {}
        self.clicks: dict[str, tuple[str, str]] = {}

    def get(self, customer_id: str) -> Customer | None:
        return self.customers.get(customer_id)

    def tags(self, customer_id: str) -> set[str]:
        return set(self.tag_sets[customer_id])

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        return sum(1 for at in self.orders[customer_id] if since <= at <= until)

    def first_message_id(self, customer_id: str) -> str | None:
        return self.first_messages.get(customer_id)

    def ad_click(self, customer_id: str, *, since: str) -> tuple[str, str] | None:
        found = self.clicks.get(customer_id)
        return found if found and found[1] >= since else None


class FakeTags:
    def __init__(self, profiles: FakeProfiles) -> None:
        self.profiles = profiles
        self.log: dict[tuple[str, str, str, str], str] = {}

    def change(
        self, customer_id: str, add: list[str], remove: list[str], *, source: str, event_id: str, at: str
    ) -> None:
        for tag in add:
            if self.log.setdefault((customer_id, tag, "add", event_id), at) == at:
                self.profiles.tag_sets[customer_id].add(tag)
        for tag in remove:
            if self.log.setdefault((customer_id, tag, "remove", event_id), at) == at:
                self.profiles.tag_sets[customer_id].discard(tag)


class FakeCoupons:
    """Unique per (pool, customer, reason), like the rewards pools; `empty` pools have none left."""

    def __init__(self) -> None:
        self.issued: dict[tuple[str, str, str], str] = {}
        self.empty: set[str] = set()

    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        if pool_id in self.empty:
            return None
        key = (pool_id, customer_id, reason)
        return self.issued.setdefault(key, f"{pool_id.upper()}-{len(self.issued) + 1:05d}")


class StaticCoupons:
    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        return None


class FakeHistory:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.by_kind: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)

    def put(self, customer_id: str, kind: str, event_id: str, occurred_at: str, data: dict[str, Any]) -> bool:
        event = HistoryEvent(
            customer_id=customer_id,
            kind=kind,
            event_id=event_id,
            occurred_at=occurred_at,
            received_at=occurred_at,
            data=data,
        )
        return self.add(event)

    def add(self, entry: HistoryEvent) -> bool:
        """Also the runs' transaction's own put (`FakeRuns.advance`), which `put` failing does not touch."""
        key = (entry.customer_id, entry.kind, entry.event_id)
        if key in self.items:
            return False
        self.items[key] = item = {"occurred_at": entry.occurred_at, "data": entry.data}
        self.by_kind[(entry.customer_id, entry.kind)].append(item)
        return True

    def of(self, customer_id: str, kind: str) -> list[dict[str, Any]]:
        return list(self.by_kind.get((customer_id, kind), ()))


class FakeConversions:
    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}

    def report(self, event: dict[str, Any]) -> None:
        self.events.setdefault(event["event_id"], event)


@dataclass
class JourneyWorld:
    customers: FakeCustomers = field(default_factory=FakeCustomers)
    journeys: FakeJourneys = field(default_factory=FakeJourneys)
    runs: FakeRuns = field(default_factory=FakeRuns)
    queue: FakeQueue = field(default_factory=FakeQueue)
    history: FakeHistory = field(default_factory=FakeHistory)
    coupons: FakeCoupons = field(default_factory=FakeCoupons)
    conversions: FakeConversions = field(default_factory=FakeConversions)
    config: FakeConfig = field(default_factory=FakeConfig)
    profiles: FakeProfiles = field(init=False)
    tags: FakeTags = field(init=False)

    def __post_init__(self) -> None:
        self.profiles = FakeProfiles(self.customers)
        self.tags = FakeTags(self.profiles)
        self.runs.history = self.history

    @property
    def ports(self) -> JourneyPorts:
        return JourneyPorts(
            journeys=self.journeys,
            runs=self.runs,
            profiles=self.profiles,
            tags=self.tags,
            coupons=self.coupons,
            history=self.history,
            conversions=self.conversions,
            queue=self.queue,
            config=self.config,
        )

    def sent_jobs(self) -> list[dict[str, Any]]:
        return [body for body, _ in self.queue.sent]


class FakeConversionQueue:
    """ConversionQueue in memory: the outbox's events with their state and place on the due index."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def report(self, event: dict[str, Any]) -> None:
        at = iso(datetime.fromtimestamp(int(event["event_time"]), tz=UTC))
        due = f"{at}#{event['event_id']}"
        self.items.setdefault(event["event_id"], {"event": event, "state": "pending", "attempts": 0, "due": due})

    def due(self, now: datetime, limit: int) -> list[Pending]:
        found = sorted((v["due"], k) for k, v in self.items.items() if v["due"] and v["due"] <= f"{iso(now)}~")
        return [
            Pending(day="", event_id=k, event=self.items[k]["event"], attempts=self.items[k]["attempts"], due=d)
            for d, k in found[:limit]
        ]

    def _still(self, pending: Pending) -> dict[str, Any] | None:
        item = self.items[pending.event_id]
        return item if item["due"] == pending.due else None

    def claim(self, pending: Pending, until: datetime) -> Pending | None:
        item = self._still(pending)
        if item is None:
            return None
        item["due"] = f"{iso(until)}#{pending.event_id}"
        return replace(pending, due=item["due"])

    def sent(self, pending: Pending, at: datetime) -> None:
        if item := self._still(pending):
            item.update(state="sent", due=None, attempts=item["attempts"] + 1)

    def retry(self, pending: Pending, at: datetime, reason: str) -> None:
        if item := self._still(pending):
            item.update(state="retrying", due=f"{iso(at)}#{pending.event_id}", last_error=reason)
            item["attempts"] += 1

    def drop(self, pending: Pending, reason: str, now: datetime) -> None:
        if item := self._still(pending):
            item.update(state="dropped", due=None, reason=reason, attempts=item["attempts"] + 1)

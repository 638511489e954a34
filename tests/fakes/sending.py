"""In-memory fakes of the sending ports (unit tests, the simulation), with the adapters' semantics."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engage.campaigns.campaign import ACTIVE, Campaign, Variant
from engage.campaigns.templates import Template
from engage.core.time import iso, parse_iso
from engage.customers.profiles import Customer
from engage.delivery.config import SendingConfig
from engage.delivery.outbound import GraphError, Outbound, SendResult
from engage.delivery.sender import Sender, SenderPorts
from engage.delivery.sends import OPEN_STATES, SendItem
from engage.delivery.throttle import MICRO, MemoryBuckets, Throttle

T0 = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # a Monday, 10:30 UTC (11:30 in Berlin)


def max_in_window(times: list[Any], window: float = MICRO) -> int:
    """The most events in any half-open window [t, t + window) (epoch µs by default)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


class FakeTemplates:
    def __init__(self, *templates: Template) -> None:
        self.items = {(t.name, t.language): t for t in templates}

    def get(self, name: str, language: str) -> Template | None:
        return self.items.get((name, language))

    def put(self, template: Template) -> None:
        self.items[(template.name, template.language)] = template

    def all(self) -> list[Template]:
        return list(self.items.values())

    def delete(self, name: str, language: str) -> None:
        self.items.pop((name, language), None)


class Clock:
    """A virtual clock: `sleep` moves it on."""

    def __init__(self, start: datetime = T0):
        self.now = start
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def us(self) -> int:
        return int(self.now.timestamp() * 1_000_000)

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class FakeCustomers:
    def __init__(self) -> None:
        self.items: dict[str, Customer] = {}

    def add(self, customer: Customer) -> Customer:
        self.items[customer.id] = customer
        return customer

    def get(self, customer_id: str) -> Customer | None:
        found = self.items.get(customer_id)
        return found.model_copy(deep=True) if found else None

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None:
        for c in self.items.values():
            if (wa_id and c.wa_id == wa_id) or (user_id and c.user_id == user_id):
                return c.id
        return None

    def create(self, customer: Customer) -> bool:
        self.items[customer.id] = customer
        return True

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool:
        c = self.items[customer_id]
        self.items[customer_id] = c.model_copy(
            update={k: v for k, v in {"wa_id": wa_id, "user_id": user_id}.items() if v}
        )
        return True

    def update(self, customer_id: str, **fields: Any) -> None:
        c = self.items[customer_id]
        data = c.model_dump()
        data.update(fields)
        self.items[customer_id] = Customer.model_validate(data)


class FakeSends:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], SendItem] = {}
        self.by_customer: dict[str, dict[str, SendItem]] = {}
        # per campaign, like the adapter's campaign index: its items, and the keys of its parked ones
        self.by_campaign: dict[str, dict[tuple[str, str], SendItem]] = {}
        self.parked_keys: dict[str, set[tuple[str, str]]] = {}
        self.guards: dict[str, str] = {}
        self.releases: list[tuple[str, str, str]] = []  # heap of (release_at, customer_id, send_key)
        self.handed: list[tuple[str, str, str]] = []  # read by the last `due`, still due until released
        self.writes = 0

    def _put(self, item: SendItem) -> None:
        key = (item.customer_id, item.send_key)
        self.items[key] = item
        self.by_customer.setdefault(item.customer_id, {})[item.send_key] = item
        if item.campaign_id:
            self.by_campaign.setdefault(item.campaign_id, {})[key] = item
            parked = self.parked_keys.setdefault(item.campaign_id, set())
            if item.state == "deferred" and item.parked:
                parked.add(key)
            else:
                parked.discard(key)
        if item.state == "deferred" and item.release_at:
            heapq.heappush(self.releases, (item.release_at, item.customer_id, item.send_key))

    def history(self, customer_id: str) -> tuple[list[dict[str, Any]], str | None]:
        items = [i.model_dump() for i in self.by_customer.get(customer_id, {}).values()]
        return items, self.guards.get(customer_id)

    def get(self, customer_id: str, send_key: str) -> SendItem | None:
        return self.items.get((customer_id, send_key))

    def save(self, item: SendItem, *, when: str = "open") -> bool:
        key = (item.customer_id, item.send_key)
        old = self.items.get(key)
        if when == "open" and old is not None and old.state not in OPEN_STATES:
            return False
        if when == "intent" and (old is None or old.state != "intent"):
            return False
        self._put(item.model_copy(deep=True))
        self.writes += 1
        return True

    def mark_sent(self, item: SendItem) -> None:
        old = self.items.get((item.customer_id, item.send_key))
        status = old.status if old and old.status else "accepted"
        self._put(
            item.model_copy(update={"state": "sent", "status": status, "job": None, "release_at": None, "reason": None})
        )

    def claim_pair(self, customer_id: str, now: datetime, seconds: float) -> bool:
        last = self.guards.get(customer_id)
        if last and parse_iso(last) > now - timedelta(seconds=seconds):
            return False
        self.guards[customer_id] = iso(now)
        return True

    def next_release(self) -> str | None:
        return self.releases[0][0] if self.releases else None

    def due(self, now: datetime, page_size: int) -> Iterator[SendItem]:
        """Like the index: an item stays due until released (entries handed out last time go back
        on the heap, and are dropped there once their item is released or deferred again)."""
        for entry in self.handed:
            heapq.heappush(self.releases, entry)
        self.handed = []
        cutoff = iso(now)
        while self.releases and self.releases[0][0] <= cutoff:
            entry = heapq.heappop(self.releases)
            release_at, customer_id, send_key = entry
            item = self.items.get((customer_id, send_key))
            if item and item.state == "deferred" and item.release_at == release_at:
                self.handed.append(entry)
                yield item

    def release(self, item: SendItem, now: datetime) -> bool:
        key = (item.customer_id, item.send_key)
        old = self.items.get(key)
        if old is None or old.state != "deferred" or not (old.release_at or old.parked):
            return False
        if item.release_at and old.release_at != item.release_at:
            return False  # deferred again since it was read
        self._put(old.model_copy(update={"release_at": None, "parked": False, "job": None}))
        return True

    def parked(self, campaign_id: str) -> Iterator[SendItem]:
        yield from [self.items[key] for key in sorted(self.parked_keys.get(campaign_id, ()))]

    def of_campaign(self, campaign_id: str) -> Iterator[SendItem]:
        yield from list(self.by_campaign.get(campaign_id, {}).values())


class FakeCampaigns:
    def __init__(self) -> None:
        self.items: dict[str, Campaign] = {}
        self.reads = 0

    def get(self, campaign_id: str) -> Campaign | None:
        self.reads += 1
        found = self.items.get(campaign_id)
        return found.model_copy(deep=True) if found else None

    def save(self, campaign: Campaign, *, expect_status: str | None = None) -> bool:
        old = self.items.get(campaign.id)
        if expect_status is not None and (old is None or old.status != expect_status):
            return False
        self.items[campaign.id] = campaign.model_copy(deep=True)
        return True

    def delete(self, campaign_id: str, *, expect_status: str) -> bool:
        old = self.items.get(campaign_id)
        if old is None or old.status != expect_status:
            return False
        del self.items[campaign_id]
        return True

    def active(self) -> list[Campaign]:
        return [c for c in self.items.values() if c.status in ACTIVE]

    def all(self) -> list[Campaign]:
        return list(self.items.values())


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        self.sent.extend((b, delay_seconds) for b in bodies)

    def take(self) -> list[tuple[dict[str, Any], int]]:
        out, self.sent = self.sent, []
        return out


class FakeShortener:
    """A stable short URL per (campaign, customer, target), like the tracked links."""

    def shorten(
        self, customer_id: str, campaign_id: str | None, variant: str | None, label: str, target: str, now: Any
    ) -> str:
        import hashlib

        code = hashlib.sha256(f"{campaign_id}|{customer_id}|{target}".encode()).hexdigest()[:8]
        return f"https://engage.example/r/{code}"


class FakeAlerts:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, alert: dict[str, Any]) -> None:
        self.published.append((alert["title"], alert.get("details") or {}))


@dataclass
class FakeConfig:
    config: SendingConfig = field(default_factory=SendingConfig)

    def sending(self) -> SendingConfig:
        return self.config


class FakeWhatsApp:
    """Accepts everything unless told otherwise: `script` holds results (or error codes) to return next."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.sent: list[tuple[datetime | None, Outbound]] = []
        self.script: list[SendResult | int] = []
        self.clock = clock
        self._ids = itertools.count(1)

    def send(self, message: Outbound) -> SendResult:
        if self.script:
            nxt = self.script.pop(0)
            if isinstance(nxt, int):
                return SendResult(error=GraphError(code=nxt, message=f"error {nxt}", http_status=400))
            if not nxt.ok:
                return nxt
            self.sent.append((self.clock() if self.clock else None, message))
            return nxt
        self.sent.append((self.clock() if self.clock else None, message))
        return SendResult(wamid=f"wamid.{next(self._ids)}", wa_id=message.to if message.to.isdigit() else "")


@dataclass
class World:
    clock: Clock
    customers: FakeCustomers
    sends: FakeSends
    campaigns: FakeCampaigns
    whatsapp: FakeWhatsApp
    queue: FakeQueue
    alerts: FakeAlerts
    config: FakeConfig
    buckets: MemoryBuckets
    sender: Sender


def world(config: SendingConfig | None = None, start: datetime = T0) -> World:
    clock = Clock(start)
    customers, sends, campaigns = FakeCustomers(), FakeSends(), FakeCampaigns()
    whatsapp, queue, alerts = FakeWhatsApp(clock), FakeQueue(), FakeAlerts()
    cfg = FakeConfig(config or SendingConfig())
    buckets = MemoryBuckets()
    throttle = Throttle.configured(buckets, cfg.config.throttle, clock_us=clock.us, sleep=clock.sleep)
    ports = SenderPorts(
        customers=customers,
        sends=sends,
        campaigns=campaigns,
        whatsapp=whatsapp,
        throttle=throttle,
        queue=queue,
        alerts=alerts,
        config=cfg,
        shortener=FakeShortener(),
        phone_number_id="1234567890",
    )
    sender = Sender(ports, clock=clock)
    return World(clock, customers, sends, campaigns, whatsapp, queue, alerts, cfg, buckets, sender)


class FakeAudience:
    """AudienceSource + AudienceWriter in memory: `members` maps a tag to customer ids."""

    def __init__(self, members: dict[str, list[str]] | None = None) -> None:
        self.members = members or {}
        self.snapshots: dict[str, list[str]] = {}
        self.reasons: dict[str, dict[str, str]] = {}

    def snapshot_audience(self, campaign_id: str, segment_id_or_rule: Any, now: datetime) -> int:
        ids = sorted(set(self.members.get(segment_id_or_rule["tag"], [])))
        self.snapshots[campaign_id] = ids
        return len(ids)

    def write(self, campaign_id: str, customer_ids: list[str], now: datetime, reasons: dict | None = None) -> int:
        self.snapshots[campaign_id] = sorted(customer_ids)
        self.reasons[campaign_id] = dict(reasons or {})
        return len(customer_ids)

    def audience_page(self, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        ids = self.snapshots.get(campaign_id, [])
        start = 0 if cursor is None else ids.index(cursor) + 1
        page = ids[start : start + limit]
        return page, (page[-1] if start + limit < len(ids) and page else None)


class FakeTier:
    def __init__(self) -> None:
        self.hours: dict[str, int] = {}

    def used(self, now: datetime) -> tuple[int, str | None]:
        start = (now - timedelta(hours=23)).strftime("%Y-%m-%dT%H")
        rows = sorted((h, n) for h, n in self.hours.items() if start <= h <= now.strftime("%Y-%m-%dT%H"))
        return sum(n for _, n in rows), (rows[0][0] if rows else None)

    def add(self, now: datetime, count: int) -> None:
        hour = now.strftime("%Y-%m-%dT%H")
        self.hours[hour] = self.hours.get(hour, 0) + count


def add_campaign(w: World, cid: str = "cmp_1", **kw: Any) -> Campaign:
    """A running campaign "Winter" (template `winter`, {{name}}) in the world's campaign store."""
    data: dict[str, Any] = {
        "id": cid,
        "name": "Winter",
        "rule": {"tag": "vip"},
        "variants": [Variant(template="winter", body=["{{name}}"])],
        "status": "running",
        "created_at": iso(T0),
        "ends_at": iso(T0 + timedelta(days=3)),
    }
    data.update(kw)
    campaign = Campaign(**data)
    w.campaigns.items[cid] = campaign
    return campaign

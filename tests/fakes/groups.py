"""In-memory fakes of the groups capability's ports (engage.groups.ports)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engage.customers.profiles import Customer
from engage.groups.models import Circle, Group, GroupsConfig, Member, Post
from engage.inbound.history import HistoryEvent


class MemoryGroupsStore:
    def __init__(self, config: GroupsConfig | None = None) -> None:
        self._config = config or GroupsConfig()
        self.circle_items: dict[str, Circle] = {}
        self.group_items: dict[str, Group] = {}
        self.refs: dict[str, str] = {}
        self.parked: dict[str, dict[str, Any]] = {}
        self.member_items: dict[tuple[str, str], Member] = {}
        self.notices: set[tuple[str, str]] = set()
        self.counters: dict[tuple[str, str], dict[str, int]] = {}
        self.active: set[tuple[str, str, str]] = set()
        self.post_items: dict[str, Post] = {}
        self.clicks: dict[str, int] = {}
        self.health_items: dict[str, dict[str, dict[str, Any]]] = {}
        self.alerts: set[tuple[str, str]] = set()

    def config(self) -> GroupsConfig:
        return self._config

    def put_circle(self, circle: Circle) -> bool:
        if circle.id in self.circle_items:
            return False
        self.circle_items[circle.id] = circle
        return True

    def get_circle(self, circle_id: str) -> Circle | None:
        return self.circle_items.get(circle_id)

    def circles(self) -> list[Circle]:
        return list(self.circle_items.values())

    def next_group_number(self, circle_id: str) -> int:
        circle = self.circle_items[circle_id]
        self.circle_items[circle_id] = circle.model_copy(update={"groups": circle.groups + 1})
        return circle.groups + 1

    def put_group(self, group: Group) -> None:
        self.group_items[group.id] = group

    def get_group(self, group_id: str) -> Group | None:
        return self.group_items.get(group_id)

    def groups(self, circle_id: str | None = None) -> list[Group]:
        return [g for g in self.group_items.values() if circle_id is None or g.circle_id == circle_id]

    def group_for_ref(self, ref: str) -> str | None:
        return self.refs.get(ref)

    def link_ref(self, ref: str, group_id: str) -> dict[str, Any] | None:
        self.refs[ref] = group_id
        return self.parked.pop(ref, None)

    def park_notice(self, ref: str, raw: dict[str, Any]) -> bool:
        if ref in self.refs:
            return False
        self.parked[ref] = raw
        return True

    def update_group(self, group_id: str, **fields: Any) -> None:
        self.group_items[group_id] = self.group_items[group_id].model_copy(update=fields)

    def take_seat(self, group_id: str, limit: int) -> bool:
        group = self.group_items[group_id]
        if group.seats_taken >= limit:
            return False
        self.update_group(group_id, seats_taken=group.seats_taken + 1)
        return True

    def free_seat(self, group_id: str) -> None:
        group = self.group_items[group_id]
        self.update_group(group_id, seats_taken=max(0, group.seats_taken - 1))

    def get_member(self, group_id: str, customer_id: str) -> Member | None:
        return self.member_items.get((group_id, customer_id))

    def put_member(self, member: Member) -> None:
        self.member_items[(member.group_id, member.customer_id)] = member

    def members(self, group_id: str) -> list[Member]:
        return [m for (g, _), m in self.member_items.items() if g == group_id]

    def memberships(self, customer_id: str) -> list[Member]:
        return [m for (_, c), m in self.member_items.items() if c == customer_id]

    def record_notice(self, group_id: str, event_id: str, *, day: str, counter: str | None) -> bool:
        if (group_id, event_id) in self.notices:
            return False
        self.notices.add((group_id, event_id))
        if counter:
            stats = self.counters.setdefault((group_id, day), {})
            stats[counter] = stats.get(counter, 0) + 1
        return True

    def mark_active(self, group_id: str, customer_id: str, *, day: str, at: str) -> bool:
        key = (group_id, day, customer_id)
        if key in self.active:
            return False
        self.active.add(key)
        return True

    def day_stats(self, group_id: str, day: str) -> dict[str, int]:
        active = sum(1 for g, d, _ in self.active if g == group_id and d == day)
        return {**self.counters.get((group_id, day), {}), "active": active}

    def put_post(self, post: Post) -> bool:
        self.post_items[post.id] = post
        return True

    def posts(self, group_id: str) -> list[Post]:
        return [p for p in self.post_items.values() if p.group_id == group_id]

    def due_posts(self, now: str, limit: int) -> list[Post]:
        due = [p for p in self.post_items.values() if p.status == "scheduled" and p.send_at <= now]
        return sorted(due, key=lambda p: p.send_at)[:limit]

    def update_post(self, post: Post) -> None:
        self.post_items[post.id] = post

    def claim_post(self, group_id: str, post_id: str) -> bool:
        post = self.post_items.get(post_id)
        if post is None or post.status != "queued":
            return False
        self.post_items[post_id] = post.model_copy(update={"status": "sending"})
        return True

    def link_clicks(self, code: str) -> int:
        return self.clicks.get(code, 0)

    def put_health(self, group_id: str, day: str, record: dict[str, Any]) -> None:
        self.health_items.setdefault(group_id, {})[day] = record

    def health(self, group_id: str, days: int) -> list[dict[str, Any]]:
        items = self.health_items.get(group_id, {})
        return [items[d] for d in sorted(items, reverse=True)[:days]]

    def alert_once(self, group_id: str, key: str, record: dict[str, Any]) -> bool:
        if (group_id, key) in self.alerts:
            return False
        self.alerts.add((group_id, key))
        return True


@dataclass
class FakeGroupsApi:
    """The Groups API as the domain sees it; `created` lists create requests (subject, request id)."""

    created: list[tuple[str, str]] = field(default_factory=list)
    approved: list[tuple[str, list[str]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    photos: list[tuple[str, str]] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def create_group(self, subject: str, description: str, *, approval_required: bool) -> str:
        request_id = f"req-{next(self.ids)}"
        self.created.append((subject, request_id))
        return request_id

    def set_photo(self, group_id: str, photo_url: str) -> None:
        self.photos.append((group_id, photo_url))

    def invite_link(self, group_id: str, *, reset: bool = False) -> str:
        return f"https://chat.whatsapp.com/{group_id}-{next(self.ids)}"

    def approve_join_requests(self, group_id: str, request_ids: list[str]) -> None:
        self.approved.append((group_id, request_ids))

    def delete_group(self, group_id: str) -> None:
        self.deleted.append(group_id)

    def send_text(self, group_id: str, text: str, *, media_url: str | None = None) -> str:
        self.sent.append((group_id, text))
        return f"wamid.g{len(self.sent)}"


class MemoryCustomers:
    def __init__(self, customers: list[Customer]) -> None:
        self.by_id = {c.id: c for c in customers}

    def get(self, customer_id: str) -> Customer | None:
        return self.by_id.get(customer_id)

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None:
        return next((c.id for c in self.by_id.values() if wa_id and c.wa_id == wa_id), None)

    def create(self, customer: Customer) -> bool:
        self.by_id[customer.id] = customer
        return True

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool:
        return True

    def update(self, customer_id: str, **fields: Any) -> None:
        self.by_id[customer_id] = self.by_id[customer_id].model_copy(update=fields)


@dataclass
class ListQueue:
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        self.bodies.extend(bodies)


@dataclass
class MemoryOrders:
    orders: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # customer -> (at, total)

    def order_totals(self, customer_id: str, since: str) -> list[float]:
        return [total for at, total in self.orders.get(customer_id, []) if at >= since]


@dataclass
class MemoryTags:
    held: dict[str, set[str]] = field(default_factory=dict)
    log: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, customer_id: str, tag: str, *, at: str, reason: str, event_id: str) -> bool:
        self.log.append(("add", customer_id, tag))
        tags = self.held.setdefault(customer_id, set())
        if tag in tags:
            return False
        tags.add(tag)
        return True

    def remove(self, customer_id: str, tag: str, *, at: str, reason: str, event_id: str) -> bool:
        self.log.append(("remove", customer_id, tag))
        tags = self.held.setdefault(customer_id, set())
        if tag not in tags:
            return False
        tags.discard(tag)
        return True


@dataclass
class MemoryHistory:
    events: dict[tuple[str, str, str], HistoryEvent] = field(default_factory=dict)

    def put_event(self, event: HistoryEvent) -> bool:
        key = (event.customer_id, event.kind, event.event_id)
        if key in self.events:
            return False
        self.events[key] = event
        return True


@dataclass
class CountingPacer:
    """Grants `free` slots, then none (the number's throughput is used up for this run)."""

    free: int = 1_000
    asked: int = 0

    def wait_for_slot(self) -> bool:
        self.asked += 1
        if self.free <= 0:
            return False
        self.free -= 1
        return True


@dataclass
class MemoryLinks:
    made: list[tuple[str, str, str]] = field(default_factory=list)

    def tracked(self, group_id: str, post_id: str, target: str, now: datetime) -> tuple[str, str]:
        code = f"L{len(self.made) + 1:07d}"
        self.made.append((group_id, post_id, target))
        return code, f"https://go.example/r/{code}"


@dataclass
class ListAlerts:
    published: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, alert: dict[str, Any]) -> None:
        self.published.append(alert)

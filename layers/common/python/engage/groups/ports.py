"""The ports the groups capability owns; adapters implement them, tests use in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engage.core.ports import Alerts, Queue
from engage.customers.ports import CustomerStore
from engage.groups.models import Circle, Group, GroupsConfig, Member, Post
from engage.inbound.history import HistoryEvent


class GroupsApi(Protocol):
    """The Cloud API's Groups endpoints (engage.adapters.whatsapp_groups)."""

    def create_group(self, subject: str, description: str, *, approval_required: bool) -> str:
        """POST /{phone_number_id}/groups; returns the request id (the group id and its invite link
        arrive in the `group_lifecycle_update` webhook)."""
        ...

    def set_photo(self, group_id: str, photo_url: str) -> None: ...

    def invite_link(self, group_id: str, *, reset: bool = False) -> str:
        """GET (or, with `reset`, POST: revokes the old one) /{group_id}/invite_link."""
        ...

    def approve_join_requests(self, group_id: str, request_ids: list[str]) -> None: ...

    def delete_group(self, group_id: str) -> None: ...

    def send_text(self, group_id: str, text: str, *, media_url: str | None = None) -> str:
        """POST /{phone_number_id}/messages with recipient_type `group`; returns the wamid."""
        ...


class CouponIssuer(Protocol):
    """The join incentive: a code per (pool, customer, reason), the same one when asked again."""

    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None: ...


class OrderHistory(Protocol):
    def order_totals(self, customer_id: str, since: str) -> list[float]:
        """The totals of the customer's `order_placed` history items since `since` (ISO)."""
        ...


class GroupsStore(Protocol):
    def config(self) -> GroupsConfig: ...

    # circles
    def put_circle(self, circle: Circle) -> bool: ...
    def get_circle(self, circle_id: str) -> Circle | None: ...
    def circles(self) -> list[Circle]: ...
    def next_group_number(self, circle_id: str) -> int: ...

    # groups
    def put_group(self, group: Group) -> None: ...
    def get_group(self, group_id: str) -> Group | None: ...
    def groups(self, circle_id: str | None = None) -> list[Group]: ...
    def group_for_ref(self, ref: str) -> str | None:
        """Our group id for a Groups API group id or create request id."""
        ...

    def link_ref(self, ref: str, group_id: str) -> dict[str, Any] | None:
        """Points `ref` at our group; returns a notice parked under `ref` before it was known."""
        ...

    def park_notice(self, ref: str, raw: dict[str, Any]) -> bool:
        """Keeps a `group_create` notice that arrived before its request id was stored; False
        when the ref is known by now (apply the notice instead)."""
        ...

    def update_group(self, group_id: str, **fields: Any) -> None: ...
    def take_seat(self, group_id: str, limit: int) -> bool:
        """One more seat if fewer than `limit` are taken (one conditional write)."""
        ...

    def free_seat(self, group_id: str) -> None: ...

    # members
    def get_member(self, group_id: str, customer_id: str) -> Member | None: ...
    def put_member(self, member: Member) -> None: ...
    def members(self, group_id: str) -> list[Member]: ...
    def memberships(self, customer_id: str) -> list[Member]: ...

    # what happened, once
    def record_notice(self, group_id: str, event_id: str, *, day: str, counter: str | None) -> bool:
        """Claims a webhook notice once and adds one to the day's `counter` (joins, leaves) with it."""
        ...

    def mark_active(self, group_id: str, customer_id: str, *, day: str, at: str) -> bool:
        """Notes that a member wrote or reacted on `day` (once per member and day)."""
        ...

    def day_stats(self, group_id: str, day: str) -> dict[str, int]:
        """{"active": members active that day, "joins": ..., "leaves": ...}."""
        ...

    # posts
    def put_post(self, post: Post) -> bool: ...
    def posts(self, group_id: str) -> list[Post]: ...
    def due_posts(self, now: str, limit: int) -> list[Post]: ...
    def update_post(self, post: Post) -> None: ...
    def claim_post(self, group_id: str, post_id: str) -> bool:
        """Moves a scheduled post to `sending` (one conditional write); False if it was not scheduled."""
        ...

    def link_clicks(self, code: str) -> int: ...

    # health
    def put_health(self, group_id: str, day: str, record: dict[str, Any]) -> None: ...
    def health(self, group_id: str, days: int) -> list[dict[str, Any]]:
        """The last `days` daily health records, newest first."""
        ...

    def alert_once(self, group_id: str, key: str, record: dict[str, Any]) -> bool: ...


class Tagger(Protocol):
    def add(self, customer_id: str, tag: str, *, at: str, reason: str, event_id: str) -> bool: ...
    def remove(self, customer_id: str, tag: str, *, at: str, reason: str, event_id: str) -> bool: ...


class History(Protocol):
    def put_event(self, event: HistoryEvent) -> bool:
        """Stores a history item once; False if it was already there."""
        ...


class LinkMaker(Protocol):
    def tracked(self, group_id: str, post_id: str, target: str, now: datetime) -> tuple[str, str]:
        """(code, short URL) of a tracked link for one group post."""
        ...


class PostPacer(Protocol):
    def wait_for_slot(self) -> bool:
        """Books a slot on the number's throughput (the sender's token bucket) and waits for it;
        False when none is free in time (the post waits for the next run)."""
        ...


@dataclass
class GroupsPorts:
    """What the API, the webhook and the schedules use (nothing here calls WhatsApp: Groups API
    calls are queued as `GroupCall`s and made by the sender, the one function holding the token)."""

    store: GroupsStore
    customers: CustomerStore
    queue: Queue
    coupons: CouponIssuer
    orders: OrderHistory
    tags: Tagger
    history: History
    alerts: Alerts | None = None


@dataclass
class WorkerPorts:
    """What the sender uses to make the queued Groups API calls."""

    groups: GroupsPorts
    api: GroupsApi
    pacer: PostPacer
    links: LinkMaker | None = None

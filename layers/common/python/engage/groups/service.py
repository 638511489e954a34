"""Circles, groups, invitations and membership: the use cases behind /v1/groups and the group webhooks.

Placement: a circle fills its newest open group first. A group is full when the people holding a
seat (invited, waiting for approval, or joined) reach the limit (8), so the ninth invitee is placed
in a new group of the same circle and never sent a link to a group that cannot take them. Groups
are created with join approval required: an invited customer's join request is approved at once,
anyone else's is held for review (the invite link can be forwarded).

Creating a group is asynchronous in the Groups API (the POST answers a request id; the group id
and its invite link arrive in a `group_lifecycle_update` webhook), so invitations to a group that
is still pending are recorded and sent when the group is created. Every Groups API call is queued
as a `GroupCall` and made by the sender (engage.groups.worker), the one function with the token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.observability import logger
from engage.core.time import iso, parse_iso
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.groups.calls import GroupCall, queue_call
from engage.groups.models import HOLDS_SEAT, AudienceRule, Circle, Group, Member
from engage.groups.ports import GroupsPorts
from engage.groups.webhooks import GroupNotice
from engage.inbound.history import HistoryEvent

SLUG = re.compile(r"[^a-z0-9]+")
CIRCLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
GROUP_ID = re.compile(r"^g_[0-9a-f]{16}$")


def circle_tag(circle_id: str) -> str:
    return f"group:{circle_id}"


def slug(name: str) -> str:
    return SLUG.sub("-", name.lower()).strip("-")[:48].strip("-")


# ---------------------------------------------------------------- circles and groups
def create_circle(
    ports: GroupsPorts,
    *,
    name: str,
    now: datetime,
    description: str = "",
    audience: AudienceRule | None = None,
    invite_template: str = "group_invite",
    invite_language: str = "en",
    coupon_pool: str | None = None,
    incentive: str = "15%",
) -> Circle:
    circle_id = slug(name)
    if not CIRCLE_ID.match(circle_id):
        raise Invalid("a circle name needs at least one letter or digit", code="invalid_circle")
    circle = Circle(
        id=circle_id,
        name=name.strip(),
        description=description,
        audience=audience or AudienceRule(),
        invite_template=invite_template,
        invite_language=invite_language,
        coupon_pool=coupon_pool,
        incentive=incentive,
        created_at=iso(now),
    )
    if not ports.store.put_circle(circle):
        raise Conflict(f"a circle {circle_id!r} exists already", code="circle_exists")
    return circle


def get_circle(ports: GroupsPorts, circle_id: str) -> Circle:
    circle = ports.store.get_circle(circle_id) if CIRCLE_ID.match(circle_id) else None
    if circle is None:
        raise NotFound(f"no circle {circle_id!r}", code="circle_not_found")
    return circle


def get_group(ports: GroupsPorts, group_id: str) -> Group:
    group = ports.store.get_group(group_id) if GROUP_ID.match(group_id) else None
    if group is None:
        raise NotFound(f"no group {group_id!r}", code="group_not_found")
    return group


def create_group(
    ports: GroupsPorts,
    circle: Circle,
    *,
    now: datetime,
    subject: str | None = None,
    description: str | None = None,
    photo_url: str | None = None,
) -> Group:
    """Asks the Groups API for a new group of the circle; it is `pending` until its webhook arrives."""
    number = ports.store.next_group_number(circle.id)
    title = (subject or f"{circle.name} {number}").strip()[:128]
    about = (description if description is not None else circle.description)[:2048]
    group = Group(
        id=f"g_{secrets.token_hex(8)}",
        circle_id=circle.id,
        number=number,
        subject=title,
        description=about,
        photo_url=photo_url,
        status="pending",
        created_at=iso(now),
    )
    ports.store.put_group(group)
    queue_call(ports.queue, GroupCall(op="create", group_id=group.id))
    return group


def reset_invite_link(ports: GroupsPorts, group_id: str) -> Group:
    """Queues the reset; the old link stops working when the sender has made the call."""
    group = get_group(ports, group_id)
    _require_created(group)
    queue_call(ports.queue, GroupCall(op="reset_link", group_id=group.id))
    return group


def close_group(ports: GroupsPorts, group_id: str, now: datetime) -> Group:
    """Deletes the group in WhatsApp (its members are removed); kept here as `closed` for its history."""
    group = get_group(ports, group_id)
    if group.status == "closed":
        return group
    if group.status != "pending":
        queue_call(ports.queue, GroupCall(op="delete", group_id=group.id))
    ports.store.update_group(group.id, status="closed", closed_at=iso(now))
    return group.model_copy(update={"status": "closed", "closed_at": iso(now)})


def _require_created(group: Group) -> None:
    if group.status == "closed":
        raise Conflict("the group is closed", code="group_closed")
    if not group.wa_group_id:
        raise Conflict("the group is not created in WhatsApp yet", code="group_pending")


# ---------------------------------------------------------------- invitations
@dataclass
class InviteReport:
    invited: list[dict[str, str]] = field(default_factory=list)  # customer_id, group_id
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> customer ids
    groups_created: list[str] = field(default_factory=list)

    def skip(self, reason: str, customer_id: str) -> None:
        self.skipped.setdefault(reason, []).append(customer_id)


def eligible(ports: GroupsPorts, rule: AudienceRule, customer_id: str, now: datetime) -> bool:
    """The circle's audience rule on the customer's orders in its window."""
    totals = ports.orders.order_totals(customer_id, iso(now - timedelta(days=rule.window_days)))
    if len(totals) < rule.min_orders:
        return False
    return not totals or sum(totals) / len(totals) >= rule.min_average_order


def invite(
    ports: GroupsPorts,
    circle: Circle,
    customer_ids: list[str],
    *,
    now: datetime,
    group_id: str | None = None,
    check_audience: bool = True,
) -> InviteReport:
    """Places each customer in the circle's open group (a new one when it is full) and queues their
    invitation. A customer already in (or invited to) one of the circle's groups is skipped."""
    config = ports.store.config()
    report = InviteReport()
    groups = [g for g in ports.store.groups(circle.id) if g.status in ("pending", "active")]
    if group_id is not None:
        groups = [g for g in groups if g.id == group_id] + [g for g in groups if g.id != group_id]
    else:
        groups.sort(key=lambda g: g.number)
    in_circle = {g.id for g in ports.store.groups(circle.id)}
    for customer_id in dict.fromkeys(customer_ids):
        customer = ports.customers.get(customer_id)
        if customer is None:
            report.skip("customer_not_found", customer_id)
            continue
        held = [m for m in ports.store.memberships(customer_id) if m.group_id in in_circle and m.status in HOLDS_SEAT]
        if held:
            report.skip("already_in_circle", customer_id)
            continue
        if check_audience and not eligible(ports, circle.audience, customer_id, now):
            report.skip("not_in_audience", customer_id)
            continue
        group = next((g for g in groups if ports.store.take_seat(g.id, config.max_participants)), None)
        if group is None:
            group = create_group(ports, circle, now=now)
            ports.store.take_seat(group.id, config.max_participants)
            groups.append(group)
            in_circle.add(group.id)
            report.groups_created.append(group.id)
        member = Member(
            group_id=group.id, customer_id=customer_id, wa_id=customer.wa_id, status="invited", invited_at=iso(now)
        )
        ports.store.put_member(member)
        report.invited.append({"customer_id": customer_id, "group_id": group.id})
        if group.status == "active" and group.invite_link:
            queue_invitation(ports, circle, group, customer_id, now)
    return report


def queue_invitation(ports: GroupsPorts, circle: Circle, group: Group, customer_id: str, now: datetime) -> None:
    """The invite template with the group's link and the join incentive, as a send job: the sender
    applies consent, caps, windows, quiet hours and the pair limit (deferred, never dropped)."""
    code = ports.coupons.issue(circle.coupon_pool or "group-join", customer_id, f"group:{circle.id}", now)
    body = {"circle": circle.name, "incentive": circle.incentive, "coupon": code or circle.incentive}
    link_code = (group.invite_link or "").rstrip("/").rsplit("/", 1)[-1]
    job = SendJob(
        customer_id=customer_id,
        send_key=f"group-invite:{group.id}",
        category="marketing",
        message=TemplateMessage(
            template=circle.invite_template,
            language=circle.invite_language,
            variables={"body": body, "buttons": [{"index": 0, "sub_type": "url", "value": link_code}]},
        ),
        campaign_id=f"group:{circle.id}",  # counted in the metrics like a campaign's sends
        reason=f"group:{circle.id}",
    )
    ports.queue.send([job.model_dump(mode="json")])


# ---------------------------------------------------------------- webhooks
def handle_notice(ports: GroupsPorts, notice: GroupNotice, now: datetime) -> str:
    """Applies one group notice once; returns what was done (for the report and the logs)."""
    group_id = ports.store.group_for_ref(notice.group_id) or (
        ports.store.group_for_ref(notice.request_id) if notice.request_id else None
    )
    group = ports.store.get_group(group_id) if group_id else None
    if group is None:
        if group_id is None and notice.kind == "created" and notice.request_id:
            if ports.store.park_notice(notice.request_id, notice.raw):
                return "parked"  # its create call has not stored the request id yet
            return handle_notice(ports, notice, now)  # linked in between: found this time
        return "unknown_group"
    day = _day(notice, now)
    counter = {"joined": "joins", "left": "leaves", "removed": "leaves"}.get(notice.kind)
    if not ports.store.record_notice(group.id, notice.event_id, day=day, counter=counter):
        return "duplicate"
    if notice.kind == "created":
        return _created(ports, group, notice, now)
    if notice.kind in ("create_failed", "deleted"):
        ports.store.update_group(group.id, status="closed", closed_at=iso(now))
        return "closed"
    if notice.kind == "suspended":
        ports.store.update_group(group.id, status="suspended")
        return "suspended"
    if notice.kind == "unsuspended":
        ports.store.update_group(group.id, status="active")
        return "active"
    if notice.kind == "join_requested":
        return _join_requested(ports, group, notice, now)
    if notice.kind == "joined":
        return _joined(ports, group, notice, now)
    if notice.kind in ("left", "removed"):
        return _left(ports, group, notice, now)
    return "noted"


def _day(notice: GroupNotice, now: datetime) -> str:
    try:
        return iso(datetime.fromtimestamp(int(notice.timestamp), now.tzinfo))[:10]
    except (TypeError, ValueError, OverflowError, OSError):
        return iso(now)[:10]


def _occurred(notice: GroupNotice, now: datetime) -> str:
    try:
        return iso(datetime.fromtimestamp(int(notice.timestamp), now.tzinfo))
    except (TypeError, ValueError, OverflowError, OSError):
        return iso(now)


def _created(ports: GroupsPorts, group: Group, notice: GroupNotice, now: datetime) -> str:
    ports.store.link_ref(notice.group_id, group.id)
    ports.store.update_group(group.id, status="active", wa_group_id=notice.group_id, invite_link=notice.invite_link)
    group = group.model_copy(
        update={"status": "active", "wa_group_id": notice.group_id, "invite_link": notice.invite_link}
    )
    if group.photo_url:
        queue_call(ports.queue, GroupCall(op="photo", group_id=group.id))
    circle = ports.store.get_circle(group.circle_id)
    if circle is not None and group.invite_link:
        for member in ports.store.members(group.id):
            if member.status == "invited":
                queue_invitation(ports, circle, group, member.customer_id, now)
    return "created"


def _person(ports: GroupsPorts, group: Group, wa_id: str) -> Member:
    customer_id = ports.customers.find_id(wa_id=wa_id) if wa_id else None
    key = customer_id or f"wa:{wa_id}"
    return ports.store.get_member(group.id, key) or Member(
        group_id=group.id, customer_id=key, wa_id=wa_id or None, status="requested"
    )


def _join_requested(ports: GroupsPorts, group: Group, notice: GroupNotice, now: datetime) -> str:
    member = _person(ports, group, notice.wa_id)
    if member.status == "invited" and notice.join_request_id:
        queue_call(ports.queue, GroupCall(op="approve", group_id=group.id, request_ids=[notice.join_request_id]))
        ports.store.put_member(member.model_copy(update={"join_request_id": notice.join_request_id}))
        return "approved"
    if member.status == "joined":
        return "noted"
    held = member.model_copy(update={"status": "requested", "join_request_id": notice.join_request_id})
    ports.store.put_member(held)
    logger.info("group join request held for review", extra={"group_id": group.id})
    return "held"


def approve_held(ports: GroupsPorts, group_id: str, customer_ids: list[str]) -> list[str]:
    """A marketer approves join requests that were held for review."""
    group = get_group(ports, group_id)
    held = [m for m in ports.store.members(group.id) if m.status == "requested" and m.join_request_id]
    chosen = [m for m in held if m.customer_id in customer_ids]
    if chosen:
        _require_created(group)
        request_ids = [str(m.join_request_id) for m in chosen]
        queue_call(ports.queue, GroupCall(op="approve", group_id=group.id, request_ids=request_ids))
    return [m.customer_id for m in chosen]


def _joined(ports: GroupsPorts, group: Group, notice: GroupNotice, now: datetime) -> str:
    member = _person(ports, group, notice.wa_id)
    occurred = _occurred(notice, now)
    if member.status not in HOLDS_SEAT:  # a rejoin, or a join nobody had a seat for
        ports.store.take_seat(group.id, 1 << 30)  # WhatsApp enforces the real limit
    ports.store.put_member(
        member.model_copy(
            update={"status": "joined", "joined_at": occurred, "left_at": None, "last_active_at": occurred}
        )
    )
    if not member.customer_id.startswith("wa:"):
        tag = circle_tag(group.circle_id)
        ports.tags.add(member.customer_id, tag, at=occurred, reason=f"joined {group.id}", event_id=notice.event_id)
        _history(ports, member.customer_id, "group_joined", group, notice, occurred, now)
    return "joined"


def _left(ports: GroupsPorts, group: Group, notice: GroupNotice, now: datetime) -> str:
    member = _person(ports, group, notice.wa_id)
    occurred = _occurred(notice, now)
    if member.status in HOLDS_SEAT:
        ports.store.free_seat(group.id)
    ports.store.put_member(member.model_copy(update={"status": notice.kind, "left_at": occurred}))
    if member.customer_id.startswith("wa:"):
        return notice.kind
    in_circle = {g.id for g in ports.store.groups(group.circle_id)} - {group.id}
    still = any(m.group_id in in_circle and m.status == "joined" for m in ports.store.memberships(member.customer_id))
    if not still:
        tag = circle_tag(group.circle_id)
        ports.tags.remove(
            member.customer_id, tag, at=occurred, reason=f"{notice.kind} {group.id}", event_id=notice.event_id
        )
    _history(ports, member.customer_id, "group_left", group, notice, occurred, now)
    return notice.kind


def _history(
    ports: GroupsPorts, customer_id: str, kind: str, group: Group, notice: GroupNotice, occurred: str, now: datetime
) -> None:
    ports.history.put_event(
        HistoryEvent(
            customer_id=customer_id,
            kind=kind,
            event_id=f"{group.id}|{notice.event_id}",
            occurred_at=occurred,
            received_at=iso(now),
            data={"group_id": group.id, "circle_id": group.circle_id, "how": notice.kind},
        )
    )


# ---------------------------------------------------------------- activity
def member_wrote(ports: GroupsPorts, wa_group_id: str, wa_id: str, at: str, now: datetime) -> bool:
    """A message or reaction from a member in a group: counted once per member and day."""
    group_id = ports.store.group_for_ref(wa_group_id)
    customer_id = ports.customers.find_id(wa_id=wa_id) if wa_id else None
    if group_id is None or customer_id is None:
        return False
    member = ports.store.get_member(group_id, customer_id)
    if member is None or member.status != "joined":
        return False
    try:
        day = iso(parse_iso(at))[:10]
    except ValueError:
        day = iso(now)[:10]
    if member.last_active_at is None or member.last_active_at < at:
        ports.store.put_member(member.model_copy(update={"last_active_at": at}))
    return ports.store.mark_active(group_id, customer_id, day=day, at=at)


class GroupWebhooks:
    """The inbound capability's `GroupUpdates` port: notices and group messages, applied here."""

    def __init__(self, ports: GroupsPorts):
        self.ports = ports

    def notice(self, notice: GroupNotice, now: datetime) -> str:
        return handle_notice(self.ports, notice, now)

    def member_wrote(self, wa_group_id: str, wa_id: str, at: str, now: datetime) -> bool:
        return member_wrote(self.ports, wa_group_id, wa_id, at, now)

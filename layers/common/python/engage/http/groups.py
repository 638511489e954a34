"""/v1/circles and /v1/groups: WhatsApp groups (the Groups API), their invitations, posts and health.

Creating a group, resetting its link, approving a held join request and closing it are Groups API
calls made by the sender (engage.groups.calls); those routes answer 202 with the state as it is.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from engage import wiring
from engage.core.errors import Invalid
from engage.core.time import iso, parse_iso, utcnow
from engage.core.types import CustomerId, TagName
from engage.groups import health, posts, service
from engage.groups.models import AudienceRule, Group
from engage.groups.ports import GroupsPorts
from engage.http.auth import Marketer
from engage.segments import service as segments
from engage.segments.evaluator import evaluate

router = APIGatewayHttpRouter()

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_INVITEES = 1000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AudienceIn(Strict):
    min_orders: int = Field(default=2, ge=0, le=1000)
    window_days: int = Field(default=180, ge=1, le=3650)
    min_average_order: float = Field(default=100, ge=0, le=1e9)


class CircleIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2048)
    audience: AudienceIn = Field(default_factory=AudienceIn)
    invite_template: str = Field(default="group_invite", pattern=r"^[a-z0-9_]{1,512}$")
    invite_language: str = Field(default="en", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    coupon_pool: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    incentive: str = Field(default="15%", min_length=1, max_length=60)


class GroupIn(Strict):
    circle_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    subject: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=2048)
    photo_url: str | None = Field(default=None, pattern=r"^https://\S{1,2040}$")


class InviteIn(Strict):
    """Who to invite: a saved segment, everyone holding a tag, explicit customers, or several of them.
    The circle's audience rule (orders in the window, average order) is applied to each unless
    `check_audience` is false."""

    segment_id: str | None = Field(default=None, pattern=r"^seg_[0-9a-f]{16}$")
    customer_ids: list[CustomerId] = Field(default=[], max_length=MAX_INVITEES)
    tag: TagName | None = None
    check_audience: StrictBool = True


class ApproveIn(Strict):
    customer_ids: list[CustomerId] = Field(min_length=1, max_length=8)


class PostIn(Strict):
    kind: Literal["offer", "story", "tip", "interactive", "customer"]
    text: str = Field(min_length=1, max_length=3000)
    link: str | None = Field(default=None, pattern=r"^https?://\S{1,2040}$")
    media_url: str | None = Field(default=None, pattern=r"^https://\S{1,2040}$")
    send_at: str | None = Field(default=None, description="ISO time; now when omitted")


def _ports() -> GroupsPorts:
    return wiring.groups.ports()


def _accepted(body: Any) -> Response[Any]:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


def _created(body: Any) -> Response[Any]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def _day() -> str:
    day = router.current_event.get_query_string_value("day")
    if day is None:
        return iso(utcnow() - timedelta(days=1))[:10]
    if not DAY.match(day):
        raise Invalid("day must be YYYY-MM-DD", code="invalid_day")
    return day


def _invitees(body: InviteIn) -> list[str]:
    ids = list(body.customer_ids)
    if body.segment_id:
        segment = segments.get_segment(body.segment_id, store=wiring.segments.repository())
        node, known = segments.checked_rule(segment["rule"], wiring.segments.tag_catalog())
        ids.extend(evaluate(node, wiring.segments.audience(), known, now=utcnow()).ids)
    if body.tag:
        for customer_id in wiring.tagging.memberships().members(body.tag):
            ids.append(customer_id)
            if len(ids) > MAX_INVITEES:
                break
    if len(ids) > MAX_INVITEES:
        raise Invalid(f"at most {MAX_INVITEES} invitees per request", code="too_many_invitees")
    if not ids:
        raise Invalid("name a segment_id, a tag or customer_ids (the segment or tag may be empty)", code="no_invitees")
    return ids


def _group_out(ports: GroupsPorts, group: Group) -> dict[str, Any]:
    members = ports.store.members(group.id)
    counts: dict[str, int] = {}
    for member in members:
        counts[member.status] = counts.get(member.status, 0) + 1
    return {**group.model_dump(), "members": counts}


def _send_at(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise Invalid("send_at must be an ISO time", code="invalid_send_at") from None


# ---------------------------------------------------------------- circles
@router.post("/v1/circles")
def create_circle(body: CircleIn, caller: Marketer) -> Response[Any]:
    circle = service.create_circle(
        _ports(),
        name=body.name,
        now=utcnow(),
        description=body.description,
        audience=AudienceRule(**body.audience.model_dump()),
        invite_template=body.invite_template,
        invite_language=body.invite_language,
        coupon_pool=body.coupon_pool,
        incentive=body.incentive,
    )
    return _created(circle.model_dump())


@router.get("/v1/circles")
def list_circles(caller: Marketer) -> dict[str, Any]:
    return {"circles": [c.model_dump() for c in _ports().store.circles()], "plan": posts.plan_counts()}


@router.get("/v1/circles/<circle_id>")
def get_circle(circle_id: str, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    circle = service.get_circle(ports, circle_id)
    groups = sorted(ports.store.groups(circle.id), key=lambda g: g.number)
    return {**circle.model_dump(), "groups": [_group_out(ports, g) for g in groups]}


@router.post("/v1/circles/<circle_id>/invite")
def invite_to_circle(circle_id: str, body: InviteIn, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    circle = service.get_circle(ports, circle_id)
    report = service.invite(ports, circle, _invitees(body), now=utcnow(), check_audience=body.check_audience)
    return {"invited": report.invited, "skipped": report.skipped, "groups_created": report.groups_created}


@router.post("/v1/circles/<circle_id>/posts")
def post_to_circle(circle_id: str, body: PostIn, caller: Marketer) -> Response[Any]:
    ports = _ports()
    circle = service.get_circle(ports, circle_id)
    groups = [g for g in ports.store.groups(circle.id) if g.status in ("pending", "active")]
    if not groups:
        raise Invalid("the circle has no open group", code="no_open_group")
    now = utcnow()
    made = [
        posts.schedule_post(
            ports,
            g,
            kind=body.kind,
            text=body.text,
            now=now,
            send_at=_send_at(body.send_at),
            link=body.link,
            media_url=body.media_url,
        ).model_dump()
        for g in groups
    ]
    return _created({"posts": made})


@router.get("/v1/circles/<circle_id>/health")
def circle_health(circle_id: str, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    circle = service.get_circle(ports, circle_id)
    day = _day()
    return {"circle_id": circle.id, "day": day, **health.circle_day(ports, circle, day)}


# ---------------------------------------------------------------- groups
@router.post("/v1/groups")
def create_group(body: GroupIn, caller: Marketer) -> Response[Any]:
    ports = _ports()
    circle = service.get_circle(ports, body.circle_id)
    group = service.create_group(
        ports, circle, now=utcnow(), subject=body.subject, description=body.description, photo_url=body.photo_url
    )
    return _accepted(group.model_dump())


@router.get("/v1/groups")
def list_groups(caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    circle_id = router.current_event.get_query_string_value("circle_id")
    if circle_id is not None and not service.CIRCLE_ID.match(circle_id):
        raise Invalid("circle_id is not a circle id", code="invalid_circle")
    return {"groups": [g.model_dump() for g in ports.store.groups(circle_id or None)]}


@router.get("/v1/groups/<group_id>")
def get_group(group_id: str, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    return _group_out(ports, service.get_group(ports, group_id))


@router.delete("/v1/groups/<group_id>")
def close_group(group_id: str, caller: Marketer) -> Response[Any]:
    return _accepted(service.close_group(_ports(), group_id, utcnow()).model_dump())


@router.post("/v1/groups/<group_id>/invite-link")
def reset_invite_link(group_id: str, caller: Marketer) -> Response[Any]:
    return _accepted(service.reset_invite_link(_ports(), group_id).model_dump())


@router.post("/v1/groups/<group_id>/invite")
def invite_to_group(group_id: str, body: InviteIn, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    group = service.get_group(ports, group_id)
    circle = service.get_circle(ports, group.circle_id)
    report = service.invite(
        ports, circle, _invitees(body), now=utcnow(), group_id=group.id, check_audience=body.check_audience
    )
    return {"invited": report.invited, "skipped": report.skipped, "groups_created": report.groups_created}


@router.post("/v1/groups/<group_id>/join-requests/approve")
def approve_join_requests(group_id: str, body: ApproveIn, caller: Marketer) -> Response[Any]:
    return _accepted({"approved": service.approve_held(_ports(), group_id, body.customer_ids)})


@router.get("/v1/groups/<group_id>/members")
def list_members(group_id: str, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    group = service.get_group(ports, group_id)
    return {"members": [m.model_dump() for m in ports.store.members(group.id)]}


@router.get("/v1/groups/<group_id>/posts")
def list_posts(group_id: str, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    group = service.get_group(ports, group_id)
    return {"posts": [p.model_dump() for p in ports.store.posts(group.id)], "plan": posts.plan_counts()}


@router.post("/v1/groups/<group_id>/posts")
def create_post(group_id: str, body: PostIn, caller: Marketer) -> Response[Any]:
    ports = _ports()
    group = service.get_group(ports, group_id)
    post = posts.schedule_post(
        ports,
        group,
        kind=body.kind,
        text=body.text,
        now=utcnow(),
        send_at=_send_at(body.send_at),
        link=body.link,
        media_url=body.media_url,
    )
    return _created(post.model_dump())


@router.get("/v1/groups/<group_id>/health")
def group_health(group_id: str, caller: Marketer) -> dict[str, Any]:
    ports = _ports()
    group = service.get_group(ports, group_id)
    day = _day()
    config = ports.store.config()
    return {
        "group_id": group.id,
        "day": day,
        **health.group_day(ports, group, day).as_dict(config),
        "last_days": ports.store.health(group.id, 7),
    }

"""Circles, groups, members and posts as the groups capability sees them, and its tunable numbers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_PARTICIPANTS = 8  # Meta's limit per group (the business number is not counted)
MAX_GROUPS_PER_NUMBER = 10_000
SUBJECT_MAX = 128  # Groups API: subject at most 128 characters, whitespace trimmed
DESCRIPTION_MAX = 2048

GroupStatus = Literal["pending", "active", "suspended", "closed"]
MemberStatus = Literal["invited", "requested", "joined", "left", "removed"]
PostKind = Literal["offer", "story", "tip", "interactive", "customer"]
PostStatus = Literal["scheduled", "queued", "sending", "sent", "failed", "skipped"]

IN_GROUP: frozenset[str] = frozenset({"joined"})
# Seats a group keeps for people who were invited and may still join: a group is full when its
# members plus open invitations reach the limit, so a ninth invitee is never sent a link to a
# group that cannot take them.
HOLDS_SEAT: frozenset[str] = frozenset({"invited", "requested", "joined"})


class AudienceRule(BaseModel):
    """Who a circle invites (the playbook's default: at least 2 purchases in the last 6 months and an
    average order of at least 100 in the shop's currency)."""

    min_orders: int = Field(default=2, ge=0, le=1000)
    window_days: int = Field(default=180, ge=1, le=3650)
    min_average_order: float = Field(default=100, ge=0)


class Circle(BaseModel):
    """A named series of groups with one audience and one content plan."""

    id: str
    name: str
    description: str = ""
    audience: AudienceRule = Field(default_factory=AudienceRule)
    invite_template: str = "group_invite"
    invite_language: str = "en"
    coupon_pool: str | None = None
    incentive: str = "15%"
    created_at: str
    groups: int = 0  # groups created so far (the next one is numbered groups + 1)


class Group(BaseModel):
    id: str  # ours (g_...); the Groups API's id arrives with the group_create webhook
    circle_id: str
    wa_group_id: str | None = None
    number: int = 1  # its place in the circle's series
    subject: str
    description: str = ""
    photo_url: str | None = None
    invite_link: str | None = None
    status: GroupStatus = "pending"
    created_at: str
    closed_at: str | None = None
    seats_taken: int = 0  # invited + requested + joined
    request_id: str | None = None  # of the create call (the lifecycle webhook names it)


class Member(BaseModel):
    group_id: str
    customer_id: str
    wa_id: str | None = None
    status: MemberStatus
    invited_at: str | None = None
    joined_at: str | None = None
    left_at: str | None = None
    last_active_at: str | None = None
    join_request_id: str | None = None
    warned_at: str | None = None  # the last early-warning reactivation message


class Post(BaseModel):
    id: str
    group_id: str
    circle_id: str
    kind: PostKind
    text: str = Field(min_length=1, max_length=4096)
    link: str | None = None  # target of the tracked link appended to the text
    link_code: str | None = None
    media_url: str | None = None
    send_at: str
    valid_until: str | None = None  # offers: 24 hours after sending
    status: PostStatus = "scheduled"
    wamid: str | None = None
    error: str | None = None


class GroupsConfig(BaseModel):
    """The groups' tunable numbers (DESIGN §4 "Groups"), stored under CONFIG / groups."""

    max_participants: int = Field(default=MAX_PARTICIPANTS, ge=1, le=MAX_PARTICIPANTS)
    healthy_activity_rate: float = Field(default=0.40, ge=0, le=1)
    healthy_click_rate: float = Field(default=0.25, ge=0, le=1)
    unhealthy_days_for_alert: int = Field(default=7, ge=1, le=90)
    silent_days: int = Field(default=14, ge=1, le=365)
    warning_cooldown_days: int = Field(default=30, ge=1, le=365)
    offer_valid_hours: int = Field(default=24, ge=1, le=24 * 14)
    join_coupon_code: str | None = Field(default=None, max_length=64)  # the static join incentive code
    reactivation_template: str = "group_reactivation"

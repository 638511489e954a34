"""Campaigns: what to send to whom, when and how fast, and the state machine around it.

draft -> scheduled -> running <-> paused -> completed | cancelled. Launch queues the first
dispatch page (or waits for `schedule.at`, started by `campaign-tick`); pause and cancel are
read by every sender within `state_cache_seconds`; resume re-queues the parked jobs and the
dispatch cursor, and never re-sends (the send item per (customer, campaign) is the guard).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from engage.campaigns.ports import CampaignStore
from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.ports import Queue
from engage.core.time import iso, parse_iso
from engage.delivery.config import SendingConfig
from engage.delivery.jobs import TemplateMessage, TextMessage
from engage.metrics.links import validate_target

Status = Literal["draft", "scheduled", "running", "paused", "completed", "cancelled"]
ACTIVE = ("scheduled", "running", "paused")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # `https:`, `javascript:`, `data:` ...
EXPRESSION = re.compile(r"\{\{")


def check_links(body: CampaignIn) -> None:
    """Every link a campaign sends is an absolute http(s) URL with a host: the tracked link's target, a
    URL button given as a whole URL (else it is the suffix of the template's URL) and a literal header
    image. A `javascript:` link would fail every send. Checked on create and edit, not on reading a
    stored campaign, so one stored before this check still loads (its sends are refused instead)."""
    places: list[tuple[str, str]] = [("link", body.link)] if body.link is not None else []
    for i, variant in enumerate(body.variants):
        if variant.header_image is not None and not EXPRESSION.search(variant.header_image):
            places.append((f"variants[{i}].header_image", variant.header_image))
        for j, button in enumerate(variant.buttons):
            if button.sub_type == "url" and not EXPRESSION.search(button.value) and SCHEME.match(button.value):
                places.append((f"variants[{i}].buttons[{j}].value", button.value))
    for field, value in places:
        try:
            validate_target(value)
        except Invalid as error:
            raise Invalid(f"{field}: {error.message}", code="invalid_link", details={"field": field}) from None


TRANSITIONS: dict[str, tuple[str, ...]] = {
    "launch": ("draft",),
    "pause": ("scheduled", "running"),
    "resume": ("paused",),
    "cancel": ("draft", "scheduled", "running", "paused"),
    "complete": ("running",),
}


class Button(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=9)
    sub_type: Literal["url", "quick_reply", "copy_code"] = "url"
    value: str = Field(min_length=1, max_length=2000, description="A literal or an expression such as '{{link}}'.")


class Variant(BaseModel):
    """One message version: an approved template with its parameters, or free text."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="A", pattern=r"^[A-Za-z0-9_-]{1,20}$")
    template: str | None = None
    language: str = "en"
    text: str | None = Field(default=None, max_length=4096)
    body: list[str] | dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,60}$")], str] = Field(
        default=[],
        max_length=20,
        description="Body parameters: in order (`{{1}}`, `{{2}}` ...), e.g. ['{{name}}'], or by name for a "
        "template with named parameters, e.g. {'first_name': '{{first_name}}'}.",
    )
    buttons: list[Button] = []
    header_image: str | None = Field(default=None, description="An http(s) image URL, or an expression.")

    @model_validator(mode="after")
    def _one_kind(self) -> Variant:
        if bool(self.template) == bool(self.text):
            raise ValueError("a variant has either `template` or `text`")
        return self

    def message(self) -> TemplateMessage | TextMessage:
        if self.text:
            return TextMessage(text=self.text)
        variables: dict[str, Any] = {"body": self.body, "buttons": [b.model_dump() for b in self.buttons]}
        if self.header_image:
            variables["header_image"] = self.header_image
        return TemplateMessage(template=self.template or "", language=self.language, variables=variables)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["now", "at", "best_window"] = "now"
    at: str | None = Field(default=None, description="ISO time for mode 'at'.")

    @model_validator(mode="after")
    def _at(self) -> Schedule:
        if self.mode == "at":
            if not self.at:
                raise ValueError("schedule mode 'at' needs `at`")
            parse_iso(self.at)
        return self


class AbSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_fraction: float | None = Field(default=None, gt=0, le=1)
    window_minutes: int | None = Field(default=None, ge=1, le=1440)
    min_delivered: int | None = Field(default=None, ge=1, le=1_000_000)  # None: the sending config's


class CampaignIn(BaseModel):
    """POST /v1/campaigns."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    segment_id: str | None = Field(default=None, max_length=100, description="A saved segment (seg_...).")
    rule: dict[str, Any] | str | None = Field(
        default=None, description="An inline rule, JSON or text form (docs/segments.md); stored as JSON."
    )
    category: Literal["marketing", "utility"] = "marketing"
    content: Literal["promotional", "useful"] = "promotional"
    variants: list[Variant] = Field(min_length=1, max_length=2)
    default_variant: str = "A"
    schedule: Schedule = Field(default_factory=Schedule)
    rate_per_minute: int | None = Field(default=None, ge=1, le=60_000)
    fallbacks: dict[str, str] = Field(default={}, description="Value used when a variable is missing.")
    coupon_code: str | None = None
    coupon_pool: str | None = Field(
        default=None, max_length=64, description="A coupon pool: {{coupon}} becomes a unique code per recipient."
    )
    link: str | None = Field(
        default=None, description="Target of the tracked link ({{link}}): an http(s) URL with a host."
    )
    ab: AbSettings = Field(default_factory=AbSettings)

    @model_validator(mode="after")
    def _audience(self) -> CampaignIn:
        if bool(self.segment_id) == bool(self.rule):
            raise ValueError("give either `segment_id` or `rule`")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must differ")
        if self.default_variant not in names:
            raise ValueError("`default_variant` must name a variant")
        return self


EDITABLE = tuple(CampaignIn.model_fields)


class CampaignChange(BaseModel):
    """PATCH /v1/campaigns/{id}: the fields to change on a draft; the result is checked as a new campaign."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    segment_id: str | None = Field(default=None, max_length=100)
    rule: dict[str, Any] | str | None = None
    category: Literal["marketing", "utility"] | None = None
    content: Literal["promotional", "useful"] | None = None
    variants: list[Variant] | None = Field(default=None, min_length=1, max_length=2)
    default_variant: str | None = None
    schedule: Schedule | None = None
    rate_per_minute: int | None = Field(default=None, ge=1, le=60_000)
    fallbacks: dict[str, str] | None = None
    coupon_code: str | None = None
    coupon_pool: str | None = Field(default=None, max_length=64)
    link: str | None = None
    ab: AbSettings | None = None

    def applied_to(self, current: CampaignIn) -> dict[str, Any]:
        """The current fields with these changes; a new `rule` replaces the `segment_id` and back."""
        merged = current.model_dump(include=set(EDITABLE))
        given = self.model_dump(exclude_unset=True)
        merged.update(given)
        if given.get("rule") is not None and "segment_id" not in given:
            merged["segment_id"] = None
        if given.get("segment_id") is not None and "rule" not in given:
            merged["rule"] = None
        return merged


class Dispatch(BaseModel):
    """Where the dispatcher is: phase `test` (A/B sample), `rollout` (the rest), `all` (no A/B)."""

    phase: Literal["all", "test", "rollout"] = "all"
    cursor: str | None = None
    snapshotted: bool = False
    done: bool = False
    pages: int = 0
    queued: int = 0
    held: int = 0  # A/B: recipients waiting for the winner
    waiting_until: str | None = None  # messaging-limit tier reached: resume then
    test_done_at: str | None = None


class Retarget(BaseModel):
    """A follow-up round to those who did not read (or click) its source campaign: its audience is
    chosen from the source's sends when it starts, not when it is planned (campaigns.retarget)."""

    audience: Literal["not_read", "not_clicked"]
    after_hours: float


class Campaign(CampaignIn):
    model_config = ConfigDict(extra="ignore")

    # Each template's category as WhatsApp last told us ("marketing" | "utility" | "authentication"),
    # set at creation and by `template_category_update` notifications (campaigns.template_updates).
    template_categories: dict[str, str] = {}

    id: str
    status: Status = "draft"
    created_at: str
    created_by: str = "unknown"
    updated_at: str | None = None
    launched_at: str | None = None
    started_at: str | None = None
    paused_at: str | None = None
    pause_reason: str | None = None
    completed_at: str | None = None
    cancelled_at: str | None = None
    ends_at: str | None = None
    urgent: bool = False
    warnings: list[str] = []
    audience_count: int | None = None
    dispatch: Dispatch = Field(default_factory=Dispatch)
    ab_result: dict[str, Any] | None = None
    winner: str | None = None
    follow_up_of: str | None = None
    audience_ready: bool = False  # follow-ups: the snapshot is written at creation (retargets: at start)
    round: int = 0  # retargeting rounds after the original campaign (0: the original)
    retarget: Retarget | None = None

    @property
    def is_ab(self) -> bool:
        return len(self.variants) > 1

    def variant(self, name: str | None) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        return next(v for v in self.variants if v.name == self.default_variant)

    def rate(self, config: SendingConfig) -> int:
        return self.rate_per_minute or config.throttle.campaign_rate_per_minute


def new_campaign_id() -> str:
    return "cmp_" + uuid.uuid4().hex[:16]


def dispatch_message(campaign_id: str, cursor: str | None = None) -> dict[str, Any]:
    return {"type": "dispatch", "campaign_id": campaign_id, "cursor": cursor}


def get(store: CampaignStore, campaign_id: str) -> Campaign:
    campaign = store.get(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found")
    return campaign


def draft(store: CampaignStore, campaign_id: str) -> Campaign:
    """The campaign, if it is still a draft: only drafts are edited or deleted (409 otherwise)."""
    campaign = get(store, campaign_id)
    if campaign.status != "draft":
        raise Conflict(
            f"only a draft can be changed or deleted; this campaign is {campaign.status}", code="campaign_state"
        )
    return campaign


def delete(store: CampaignStore, campaign_id: str) -> None:
    draft(store, campaign_id)
    if not store.delete(campaign_id, expect_status="draft"):
        raise Conflict("the campaign changed meanwhile; read it and try again", code="campaign_changed")


def transition(store: CampaignStore, campaign: Campaign, action: str, now: datetime, **changes: Any) -> Campaign:
    """Moves the campaign on when its status allows `action`; a concurrent change is a Conflict."""
    allowed = TRANSITIONS[action]
    if campaign.status not in allowed:
        raise Conflict(
            f"cannot {action} a {campaign.status} campaign (allowed from: {', '.join(allowed)})",
            code="campaign_state",
        )
    before = campaign.status
    updated = campaign.model_copy(update={**changes, "updated_at": iso(now)})
    if not store.save(updated, expect_status=before):
        raise Conflict("the campaign changed meanwhile; read it and try again", code="campaign_changed")
    return updated


def launch(
    store: CampaignStore, dispatch_queue: Queue, campaign_id: str, now: datetime, config: SendingConfig
) -> Campaign:
    campaign = get(store, campaign_id)
    start = parse_iso(campaign.schedule.at) if campaign.schedule.mode == "at" and campaign.schedule.at else now
    ends = max(start, now) + timedelta(hours=config.campaign_horizon_hours)
    if start > now or campaign.retarget is not None:  # a retarget starts from campaign-tick (retarget.start)
        return transition(store, campaign, "launch", now, status="scheduled", launched_at=iso(now), ends_at=iso(ends))
    campaign = transition(
        store, campaign, "launch", now, status="running", launched_at=iso(now), started_at=iso(now), ends_at=iso(ends)
    )
    dispatch_queue.send([dispatch_message(campaign.id)])
    return campaign


def start_scheduled(store: CampaignStore, dispatch_queue: Queue, campaign: Campaign, now: datetime) -> bool:
    """campaign-tick: a scheduled campaign whose time has come starts running."""
    if campaign.status != "scheduled" or not campaign.schedule.at or parse_iso(campaign.schedule.at) > now:
        return False
    updated = campaign.model_copy(update={"status": "running", "started_at": iso(now), "updated_at": iso(now)})
    if not store.save(updated, expect_status="scheduled"):
        return False
    dispatch_queue.send([dispatch_message(campaign.id)])
    return True


def pause(store: CampaignStore, campaign_id: str, now: datetime, reason: str = "paused by a marketer") -> Campaign:
    campaign = get(store, campaign_id)
    return transition(store, campaign, "pause", now, status="paused", paused_at=iso(now), pause_reason=reason)


def cancel(store: CampaignStore, campaign_id: str, now: datetime) -> Campaign:
    campaign = get(store, campaign_id)
    return transition(store, campaign, "cancel", now, status="cancelled", cancelled_at=iso(now))


def halt(store: CampaignStore, campaign_id: str, now: datetime, reason: str) -> bool:
    """Pauses a running or scheduled campaign from the sender (an error said so); False if it was not."""
    campaign = store.get(campaign_id)
    if campaign is None or campaign.status not in TRANSITIONS["pause"]:
        return False
    try:
        transition(store, campaign, "pause", now, status="paused", paused_at=iso(now), pause_reason=reason)
    except Conflict:
        return False
    return True


def validate_new(body: CampaignIn, config: SendingConfig, now: datetime) -> None:
    if body.schedule.mode == "at" and body.schedule.at and parse_iso(body.schedule.at) < now - timedelta(minutes=5):
        raise Invalid("schedule.at is in the past", code="schedule_in_past")
    if body.category == "marketing" and any(v.text for v in body.variants):
        pass  # allowed: free text goes only to customers inside their service window (others are refused)
    del config

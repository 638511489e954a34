"""What WhatsApp says about a template after approval, applied to the campaigns that use it.

`template_category_update` (Meta recategorises a template; a completed change carries
`previous_category` and `new_category`, an impending one `correct_category` and
`category_update_timestamp`, 24 hours ahead):
- the stored template takes the new category;
- every campaign still to send that uses it is re-routed: its `template_categories` entry changes, so
  its next sends go to `/marketing_messages` or `/messages` (delivery.policy.endpoint_for);
- a template that became MARKETING turns a utility campaign into a marketing one (consent, caps, the
  US block apply from its next send), and such a campaign that is running or scheduled is paused:
  its audience was chosen under utility rules, and a marketer decides whether to resume it;
- one alert names the template, the change and the campaigns re-routed or paused. An impending
  change only alerts.
`message_template_status_update` with `PAUSED` or `DISABLED` pauses the running campaigns that use
the template (their sends would fail with 132015/132016) and alerts.

Replays change nothing: a campaign that already has the new category is left alone, and no alert is
sent when nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engage.campaigns.campaign import Campaign, transition
from engage.campaigns.ports import CampaignStore, TemplateStore
from engage.core.errors import Conflict
from engage.core.ports import Alerts
from engage.core.time import from_epoch, iso

FINISHED = ("completed", "cancelled")
CATEGORIES = ("marketing", "utility", "authentication")
HALTING_EVENTS = ("PAUSED", "DISABLED")


class _Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)


class TemplateCategoryChange(_Webhook):
    """The `value` of a `template_category_update` change."""

    template_id: str = Field(default="", alias="message_template_id")
    name: str = Field(alias="message_template_name", min_length=1, max_length=512)
    language: str = Field(default="", alias="message_template_language", max_length=20)
    previous_category: str | None = None
    new_category: str | None = None
    correct_category: str | None = None
    category_update_timestamp: int | None = None

    @property
    def impending(self) -> bool:
        return bool(self.correct_category) and not self.previous_category

    @property
    def category(self) -> str:
        """The category in force after this notification (lowercase), '' when it names none."""
        value = (self.correct_category if self.impending else self.new_category) or ""
        return value.lower()


class TemplateStatusChange(_Webhook):
    """The `value` of a `message_template_status_update` change."""

    template_id: str = Field(default="", alias="message_template_id")
    name: str = Field(alias="message_template_name", min_length=1, max_length=512)
    language: str = Field(default="", alias="message_template_language", max_length=20)
    event: str = Field(default="", max_length=40)
    reason: str | None = Field(default=None, max_length=500)


@dataclass
class Applied:
    rerouted: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)
    alerted: bool = False


@dataclass
class TemplateUpdates:
    """Implements engage.inbound.templates.TemplateUpdates over the campaigns' stores."""

    campaigns: CampaignStore
    alerts: Alerts
    templates: TemplateStore | None = None

    # ------------------------------------------------------------ category
    def category_changed(self, change: TemplateCategoryChange, now: datetime) -> Applied:
        applied = Applied()
        users = self.users(change.name)
        if change.impending:
            applied.alerted = self.alert(
                f"template {change.name} will be recategorised as {change.category.upper()}",
                change,
                applied,
                campaigns=[c.id for c in users],
                effective_at=iso(from_epoch(change.category_update_timestamp))
                if change.category_update_timestamp
                else None,
            )
            return applied
        category = change.category
        if category not in CATEGORIES:
            return applied
        self.recategorise_template(change, category)
        for campaign in users:
            self.apply(campaign, change.name, category, now, applied)
        if applied.rerouted or applied.paused:
            verb = "paused" if applied.paused else "re-routed"
            applied.alerted = self.alert(
                f"template {change.name} is now {category.upper()}: campaigns {verb}", change, applied
            )
        return applied

    def apply(self, campaign: Campaign, template: str, category: str, now: datetime, applied: Applied) -> None:
        for _ in range(3):  # a concurrent change of the campaign: read it again
            if campaign.template_categories.get(template) == category:
                return  # a replay, or already known
            changes: dict[str, Any] = {"template_categories": {**campaign.template_categories, template: category}}
            tightened = category == "marketing" and campaign.category != "marketing"
            if tightened:
                changes["category"] = "marketing"
            try:
                if tightened and campaign.status in ("running", "scheduled"):
                    reason = f"template {template} recategorised as MARKETING by WhatsApp"
                    transition(
                        self.campaigns, campaign, "pause", now, status="paused", paused_at=iso(now),
                        pause_reason=reason, **changes,
                    )  # fmt: skip
                    applied.paused.append(campaign.id)
                    return
                updated = campaign.model_copy(update={**changes, "updated_at": iso(now)})
                if self.campaigns.save(updated, expect_status=campaign.status):
                    applied.rerouted.append(campaign.id)
                    return
            except Conflict:
                pass
            fresh = self.campaigns.get(campaign.id)
            if fresh is None or fresh.status in FINISHED:
                return
            campaign = fresh

    def recategorise_template(self, change: TemplateCategoryChange, category: str) -> None:
        if self.templates is None:
            return
        for template in self.templates.all():
            if template.name == change.name and template.category != category:
                self.templates.put(template.model_copy(update={"category": category}))

    # ------------------------------------------------------------ status
    def status_changed(self, change: TemplateStatusChange, now: datetime) -> Applied:
        applied = Applied()
        event = change.event.upper()
        if event not in HALTING_EVENTS:
            return applied
        if self.templates is not None:
            for template in self.templates.all():
                if template.name == change.name and template.status != event.lower():
                    self.templates.put(template.model_copy(update={"status": event.lower()}))
        for campaign in self.users(change.name):
            if campaign.status not in ("running", "scheduled"):
                continue
            try:
                transition(
                    self.campaigns, campaign, "pause", now, status="paused", paused_at=iso(now),
                    pause_reason=f"template {change.name} {event.lower()} by WhatsApp",
                )  # fmt: skip
                applied.paused.append(campaign.id)
            except Conflict:
                continue
        if applied.paused:
            applied.alerted = self.alert(f"template {change.name} {event.lower()}: campaigns paused", change, applied)
        return applied

    # ------------------------------------------------------------ shared
    def users(self, template: str) -> list[Campaign]:
        """Campaigns still to send that use the template (any variant, any language)."""
        return [
            c
            for c in self.campaigns.all()
            if c.status not in FINISHED and any(v.template == template for v in c.variants)
        ]

    def alert(self, title: str, change: BaseModel, applied: Applied, **extra: Any) -> bool:
        details = {**change.model_dump(mode="json"), "rerouted": applied.rerouted, "paused": applied.paused, **extra}
        self.alerts.publish({"kind": "template_update", "title": title, "message": title, "details": details})
        return True

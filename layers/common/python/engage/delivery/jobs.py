"""The messages that travel through the queues: one model each, validated at both ends."""

from __future__ import annotations

from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["marketing", "utility", "authentication", "service"]


class TextMessage(BaseModel):
    kind: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=4096)


class TemplateMessage(BaseModel):
    kind: Literal["template"] = "template"
    template: str
    language: str = "en"
    variables: dict[str, Any] = Field(default_factory=dict)


def is_campaign(campaign_id: str | None) -> TypeGuard[str]:
    """A campaign's id, as opposed to a source id in the campaign slot (`journey:<id>`, `referral`):
    sends from a source are counted like a campaign's but have no campaign to gate or pause them."""
    return bool(campaign_id) and ":" not in str(campaign_id)


class SendJob(BaseModel):
    """One message to one customer. `send_key` makes it unique per customer: the campaign id for
    campaign sends, `tx:<purpose>:<ref>` for transactional replies (e.g. `tx:consent:<wamid>`)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["send"] = "send"
    customer_id: str
    send_key: str
    campaign_id: str | None = None
    variant: str | None = None
    category: Category = "marketing"
    message: TextMessage | TemplateMessage = Field(discriminator="kind")
    attempt: int = 0
    reason: str | None = None  # why this job exists (journey, campaign, consent confirmation)

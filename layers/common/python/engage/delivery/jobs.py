"""The messages that travel through the queues: one model each, validated at both ends."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engage.delivery.outbound import Choice

Category = Literal["marketing", "utility", "authentication", "service"]


class TextMessage(BaseModel):
    kind: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=4096)


class TemplateMessage(BaseModel):
    kind: Literal["template"] = "template"
    template: str
    language: str = "en"
    variables: dict[str, Any] = {}


class InteractiveMessage(BaseModel):
    """Free-form, like text (only inside the service window): reply buttons for up to 3 choices, a
    list message for 4 to 10."""

    kind: Literal["interactive"] = "interactive"
    text: str = Field(min_length=1, max_length=1024)
    choices: list[Choice] = Field(min_length=1, max_length=10)
    list_button: str = Field(default="Choose", min_length=1, max_length=20)


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
    message: TextMessage | TemplateMessage | InteractiveMessage = Field(discriminator="kind")
    attempt: int = 0
    reason: str | None = None  # why this job exists (journey, campaign, consent confirmation)


SOURCES = ("referral",)  # sends of other sources carry their id in the campaign slot, for metrics


def campaign_of(job: SendJob) -> str | None:
    """The campaign the job belongs to; None for a 1:1 send of another source (`referral`,
    `journey:<id>`), whose id sits in the campaign slot only so metrics count it like a campaign's."""
    campaign_id = job.campaign_id
    if not campaign_id or campaign_id in SOURCES or ":" in campaign_id:
        return None
    return campaign_id

"""What the sender hands the WhatsApp port, and what comes back (wire formats live in the adapter)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ButtonParam(BaseModel):
    index: int
    sub_type: Literal["url", "quick_reply", "copy_code"] = "url"
    value: str


class Choice(BaseModel):
    """One answer of an interactive message: a reply button (up to 3) or a list row (up to 10)."""

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=24)
    description: str | None = Field(default=None, max_length=72)


Endpoint = Literal["messages", "marketing_messages"]


class Outbound(BaseModel):
    """One rendered message to one recipient.

    `to` is the customer's address: a wa_id (E.164 digits) or a business-scoped user id; the
    WhatsApp adapter decides which request field carries it. `body_names` holds the parameter
    names of a template with named parameters (same order as `body`), empty for positional ones.
    `endpoint` is `marketing_messages` for marketing templates (Marketing Messages API)."""

    to: str
    kind: Literal["text", "template", "interactive"]
    text: str | None = None  # also the body of an interactive message
    choices: list[Choice] = Field(default=[])  # interactive: reply buttons (<= 3) or list rows
    list_button: str = "Choose"  # interactive list: the label of the button that opens it
    template: str | None = None
    language: str = "en"
    body: list[str] = []
    body_names: list[str] = []
    endpoint: Endpoint = "messages"
    buttons: list[ButtonParam] = []
    header_image: str | None = None
    callback_data: str = ""


class GraphError(BaseModel):
    code: int
    message: str = ""
    details: str = ""
    http_status: int = 0
    fbtrace_id: str | None = None
    retry_after: int | None = None  # seconds, from a Retry-After header


class SendResult(BaseModel):
    """Accepted (`wamid`), refused (`error`), or `unknown` (timeout after the request left:
    it may have been sent). `transport_error` without `unknown` means nothing left this side."""

    wamid: str | None = None
    wa_id: str | None = None
    message_status: str | None = None
    error: GraphError | None = None
    unknown: bool = False
    transport_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.wamid is not None

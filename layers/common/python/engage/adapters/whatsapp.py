"""WhatsApp Cloud API client (httpx): POST /{phone_number_id}/messages (and /marketing_messages
for marketing templates, the Marketing Messages API: same body), typed results.

Addressing (`address`, the one place that decides it): a phone number goes in `to`; a
business-scoped user id (BSUID, e.g. `DE.1000000000000000001`) goes in `recipient`. Meta's
BSUID guidance as updated in 2026 (the Messages and Marketing Messages APIs, calling, and the SDKs
that follow it): `to` is for phone numbers, `recipient` for a BSUID or parent BSUID, and when both
are present `to` wins. We send one of the two, never both: the phone number when we know it.

Connection failures before the request was sent (connect errors, connect timeouts, pool
timeouts) prove nothing was sent; read timeouts and broken responses after the request left are
"unknown outcome" (the API has no idempotency key, so the sender reconciles instead of resending).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from engage.core.settings import WhatsAppSettings
from engage.delivery.outbound import GraphError, Outbound, SendResult

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
PHONE = re.compile(r"^\+?[1-9]\d{6,14}$")


def address(to: str) -> dict[str, str]:
    """The request field for a recipient: `to` for a phone number, `recipient` for a BSUID."""
    return {"to": to} if PHONE.match(to) else {"recipient": to}


def body_parameters(message: Outbound) -> list[dict[str, Any]]:
    """Positional (`{{1}}`) or named (`{{first_name}}`, `parameter_name`) body parameters."""
    if message.body_names:
        return [
            {"type": "text", "parameter_name": name, "text": value}
            for name, value in zip(message.body_names, message.body, strict=True)
        ]
    return [{"type": "text", "text": value} for value in message.body]


MAX_REPLY_BUTTONS = 3  # more choices go as a list message (at most 10 rows)


def interactive(message: Outbound) -> dict[str, Any]:
    """Reply buttons for up to 3 choices, else a list message with one section."""
    body = {"text": message.text or ""}
    if len(message.choices) <= MAX_REPLY_BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": c.id, "title": c.title}} for c in message.choices]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    rows = [{"id": c.id, "title": c.title, **({"description": c.description} if c.description else {})}
            for c in message.choices]  # fmt: skip
    return {"type": "list", "body": body, "action": {"button": message.list_button, "sections": [{"rows": rows}]}}


def request_body(message: Outbound) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", **address(message.to)}
    if message.callback_data:
        body["biz_opaque_callback_data"] = message.callback_data
    if message.kind == "interactive":
        body["type"] = "interactive"
        body["interactive"] = interactive(message)
        return body
    if message.kind == "text":
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": message.text or ""}
        return body
    components: list[dict[str, Any]] = []
    if message.header_image:
        components.append(
            {"type": "header", "parameters": [{"type": "image", "image": {"link": message.header_image}}]}
        )
    if message.body:
        components.append({"type": "body", "parameters": body_parameters(message)})
    for button in message.buttons:
        kind = {"url": "text", "quick_reply": "payload", "copy_code": "coupon_code"}[button.sub_type]
        components.append(
            {
                "type": "button",
                "sub_type": button.sub_type,
                "index": str(button.index),
                "parameters": [{"type": kind, kind: button.value}],
            }
        )
    template: dict[str, Any] = {"name": message.template, "language": {"code": message.language}}
    if components:
        template["components"] = components
    body["type"] = "template"
    body["template"] = template
    return body


def retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header (delta-seconds form only), bounded."""
    if value and value.strip().isdigit():
        return min(int(value.strip()), 3600)
    return None


def parse_response(status: int, payload: Any, *, wait: int | None = None) -> SendResult:
    if status < 300 and isinstance(payload, dict) and payload.get("messages"):
        first = payload["messages"][0]
        contacts = payload.get("contacts") or [{}]
        return SendResult(
            wamid=first.get("id"), wa_id=contacts[0].get("wa_id") or None, message_status=first.get("message_status")
        )
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        # No code: the HTTP status is all there is (429 and 5xx are retried, see whatsapp_errors).
        code = 0 if status < 500 else 131000
        return SendResult(error=GraphError(code=code, message="no error body", http_status=status, retry_after=wait))
    data = error.get("error_data") or {}
    raw_code = error.get("code")
    code = raw_code if isinstance(raw_code, int) else int(str(raw_code)) if str(raw_code or "").isdigit() else 0
    return SendResult(
        error=GraphError(
            code=code,
            message=str(error.get("message", "")),
            details=str(data.get("details", "")) if isinstance(data, dict) else str(data),
            http_status=status,
            fbtrace_id=error.get("fbtrace_id"),
            retry_after=wait,
        )
    )


class WhatsAppClient:
    """Implements `engage.ports.WhatsAppSender`."""

    def __init__(self, settings: WhatsAppSettings, http: httpx.Client | None = None):
        self.base = f"{settings.api_base.rstrip('/')}/{settings.phone_number_id}"
        self.url = f"{self.base}/messages"
        self.phone_number_id = settings.phone_number_id
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self.headers = {"Authorization": f"Bearer {settings.access_token}", "Content-Type": "application/json"}

    def send(self, message: Outbound) -> SendResult:
        try:
            url = f"{self.base}/{message.endpoint}"
            response = self.http.post(url, json=request_body(message), headers=self.headers)
        except NOT_SENT as error:
            return SendResult(transport_error=f"{type(error).__name__}: {error}")
        except httpx.HTTPError as error:  # read/write timeouts, broken responses: it may have gone out
            return SendResult(unknown=True, transport_error=f"{type(error).__name__}: {error}")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return parse_response(response.status_code, payload, wait=retry_after(response.headers.get("retry-after")))

"""WhatsApp Cloud API client (httpx): POST /{phone_number_id}/messages, typed results.

Connection failures before the request was sent (connect errors, connect timeouts, pool
timeouts) prove nothing was sent; read timeouts and broken responses after the request left are
"unknown outcome" (the API has no idempotency key, so the sender reconciles instead of resending).
"""

from __future__ import annotations

from typing import Any

import httpx

from engage.core.settings import WhatsAppSettings
from engage.delivery.outbound import GraphError, Outbound, SendResult

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def request_body(message: Outbound) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to}
    if message.callback_data:
        body["biz_opaque_callback_data"] = message.callback_data
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
        components.append({"type": "body", "parameters": [{"type": "text", "text": v} for v in message.body]})
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


def parse_response(status: int, payload: Any) -> SendResult:
    if status < 300 and isinstance(payload, dict) and payload.get("messages"):
        first = payload["messages"][0]
        contacts = payload.get("contacts") or [{}]
        return SendResult(
            wamid=first.get("id"), wa_id=contacts[0].get("wa_id") or None, message_status=first.get("message_status")
        )
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return SendResult(
            error=GraphError(code=0 if status < 500 else 131000, message="no error body", http_status=status)
        )
    data = error.get("error_data") or {}
    return SendResult(
        error=GraphError(
            code=int(error.get("code") or 0),
            message=str(error.get("message", "")),
            details=str(data.get("details", "")) if isinstance(data, dict) else str(data),
            http_status=status,
            fbtrace_id=error.get("fbtrace_id"),
        )
    )


class WhatsAppClient:
    """Implements `engage.ports.WhatsAppSender`."""

    def __init__(self, settings: WhatsAppSettings, http: httpx.Client | None = None):
        self.url = f"{settings.api_base.rstrip('/')}/{settings.phone_number_id}/messages"
        self.phone_number_id = settings.phone_number_id
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self.headers = {"Authorization": f"Bearer {settings.access_token}", "Content-Type": "application/json"}

    def send(self, message: Outbound) -> SendResult:
        try:
            response = self.http.post(self.url, json=request_body(message), headers=self.headers)
        except NOT_SENT as error:
            return SendResult(transport_error=f"{type(error).__name__}: {error}")
        except httpx.HTTPError as error:  # read/write timeouts, broken responses: it may have gone out
            return SendResult(unknown=True, transport_error=f"{type(error).__name__}: {error}")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return parse_response(response.status_code, payload)

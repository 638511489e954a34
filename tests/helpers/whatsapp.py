"""WhatsApp webhook test helpers: notification bodies, signed API Gateway events, the sample files.

`signed_webhook_event(body)` wraps a notification (dict, str or bytes) into the HTTP API v2
event of `POST /webhook`, signed like Meta does. Reused by the local runtime's fake WhatsApp.
events/build.py builds events/webhook/*.json from events/whatsapp/*.json with it (`make events`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from engage.inbound.signature import sign
from tests.conftest import EVENTS, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN
from tests.helpers.events import http_event

SAMPLES = EVENTS / "whatsapp"
WEBHOOK_EVENTS = EVENTS / "webhook"

BUSINESS = {"display_phone_number": "4930555000111", "phone_number_id": "1234567890"}
WABA_ID = "102290129340398"
ASHA = {"wa_id": "4915123456789", "user_id": "DE.1000000000000000001", "name": "Asha"}
T0 = 1795428000  # 2026-11-23T10:00:00Z, the time of the sample messages
RECEIVED_MS = (T0 + 930) * 1000  # 10:15:30Z, when the sample requests reach API Gateway


def body_bytes(body: dict[str, Any] | str | bytes) -> bytes:
    """The bytes Meta would send: compact JSON with non-ASCII escaped as \\uXXXX."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()


def signed_webhook_event(
    body: dict[str, Any] | str | bytes,
    secret: str = WHATSAPP_APP_SECRET,
    *,
    base64_body: bool = False,
    signature: str | None = None,
    time_epoch_ms: int | None = None,
) -> dict[str, Any]:
    """`POST /webhook` as API Gateway (stage "dev") hands it to the function, signed with `secret`.

    `signature` overrides the header value ("" leaves the header out)."""
    raw = body_bytes(body)
    header = sign(raw, secret) if signature is None else signature
    headers = {"user-agent": "facebookexternalua", "x-forwarded-proto": "https"}
    if header:
        headers["x-hub-signature-256"] = header
    event = http_event("POST", "/webhook", raw_body=raw.decode(), headers=headers, base64_body=base64_body)
    return at_time(event, RECEIVED_MS if time_epoch_ms is None else time_epoch_ms)


def at_time(event: dict[str, Any], epoch_ms: int) -> dict[str, Any]:
    """Sets the request time API Gateway reports (the handler's `now`), and the request's details."""
    context = event["requestContext"]
    context["routeKey"] = event["routeKey"]
    context["http"]["userAgent"] = event["headers"].get("user-agent", "")
    context["http"]["sourceIp"] = "173.252.95.17"
    context["requestId"] = f"W{epoch_ms:x}"
    if event.get("body") and not event.get("isBase64Encoded"):
        event["headers"]["content-length"] = str(len(event["body"].encode()))
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    event["requestContext"]["timeEpoch"] = epoch_ms
    event["requestContext"]["time"] = moment.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return event


def verification_event(
    *, mode: str = "subscribe", token: str = WHATSAPP_VERIFY_TOKEN, challenge: str = "1158201444"
) -> dict[str, Any]:
    query = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
    event = http_event("GET", "/webhook", query=query, headers={"user-agent": "facebookplatform/1.0"})
    event["body"] = None
    return at_time(event, RECEIVED_MS)


# ---------------------------------------------------------------- notification builders
def notification(*values: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    """One entry with one change per value."""
    changes = [{"value": {"messaging_product": "whatsapp", "metadata": BUSINESS, **v}, "field": field} for v in values]
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": changes}]}


def contact(wa_id: str = ASHA["wa_id"], user_id: str = ASHA["user_id"], name: str = ASHA["name"]) -> dict[str, Any]:
    profile: dict[str, Any] = {"name": name}
    if not wa_id:
        profile.update(username=f"@{name.lower()}", country_code="US")
    return {"profile": profile, "wa_id": wa_id, "user_id": user_id}


def message(
    type: str,
    payload: Any = None,
    *,
    wamid: str = "wamid.HBgNNDkxNTEyMzQ1Njc4OQ==",
    ts: int = T0,
    wa_id: str = ASHA["wa_id"],
    user_id: str = ASHA["user_id"],
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"from": wa_id, "from_user_id": user_id, "id": wamid, "timestamp": str(ts), "type": type}
    if payload is not None:
        body[type] = payload
    body.update(extra)
    return body


def inbound(*messages: dict[str, Any], contacts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A `messages` notification; the contact defaults to the first message's sender."""
    if contacts is None:
        first = messages[0]
        contacts = [contact(first.get("from", ""), first.get("from_user_id", ""))]
    return notification({"contacts": contacts, "messages": list(messages)})


def text(body: str, **kwargs: Any) -> dict[str, Any]:
    return message("text", {"body": body}, **kwargs)


def status(
    wamid: str,
    name: str,
    *,
    ts: int = T0,
    callback: str | None = None,
    recipient: str = ASHA["wa_id"],
    errors: list[dict[str, Any]] | None = None,
    pricing_category: str | None = "marketing",
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": wamid, "status": name, "timestamp": str(ts), "recipient_id": recipient}
    if callback:
        body["biz_opaque_callback_data"] = callback
    if pricing_category and name in ("sent", "delivered"):
        body["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": pricing_category}
    if name == "sent":
        body["conversation"] = {
            "id": "CONVERSATION_ID",
            "expiration_timestamp": str(ts + 86_400),
            "origin": {"type": pricing_category or "service"},
        }
    if errors:
        body["errors"] = errors
    return body


def statuses(*items: dict[str, Any]) -> dict[str, Any]:
    return notification({"statuses": list(items)})


def wa_error(code: int, title: str) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": title},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def preference(value: str, *, ts: int = T0, wa_id: str = ASHA["wa_id"], user_id: str = ASHA["user_id"]) -> dict:
    detail = "User requested to stop marketing messages" if value == "stop" else "User requested to resume marketing"
    pref = {
        "wa_id": wa_id,
        "user_id": user_id,
        "detail": detail,
        "category": "marketing_messages",
        "value": value,
        "timestamp": ts,
    }
    return notification({"contacts": [contact(wa_id, user_id)], "user_preferences": [pref]}, field="user_preferences")


# ---------------------------------------------------------------- sample files
def sample(name: str) -> dict[str, Any]:
    """A raw notification body from events/whatsapp/<name>.json."""
    return json.loads((SAMPLES / f"{name}.json").read_text())

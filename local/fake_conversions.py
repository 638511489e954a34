"""A fake of Meta's Conversions API for business messaging: `POST /{version}/{dataset_id}/events`.

It answers like Graph: `{"events_received": n, "messages": [], "fbtrace_id": ...}` for good events,
a Graph error (HTTP 400, code 100, with a subcode) for a malformed one, 190 (HTTP 401) for a wrong
token. It keeps what it received and, like Meta, counts an `event_id` it already has only once
(`received` holds the first copy, `duplicates` how many came again). `fail_next` makes the next
requests answer with those HTTP statuses (500 / 503: a Graph `code 2` error) to exercise retries.
The local runtime serves it under `/_fake/graph/`; tests call it through httpx.MockTransport.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

EVENT_NAMES = {  # what Meta takes with action_source business_messaging
    "Purchase", "LeadSubmitted", "InitiateCheckout", "AddToCart", "ViewContent", "OrderCreated",
    "OrderShipped", "OrderDelivered", "OrderCanceled", "OrderReturned", "CartAbandoned",
    "QualifiedLead", "RatingProvided", "ReviewProvided",
}  # fmt: skip


def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Fake"}
    if subcode:
        error["error_subcode"] = subcode
    return status, {"error": error}


def event_problem(event: Any) -> str | None:
    """Why Graph would refuse this event, or None."""
    if not isinstance(event, dict):
        return "Each event must be an object."
    if event.get("action_source") != "business_messaging":
        return "action_source must be business_messaging."
    if event.get("messaging_channel") != "whatsapp":
        return "messaging_channel must be whatsapp."
    if event.get("event_name") not in EVENT_NAMES:
        return f"Messaging Event Invalid Event Type: {event.get('event_name')!r}."
    if not isinstance(event.get("event_time"), int):
        return "event_time must be a Unix timestamp in seconds."
    user = event.get("user_data") or {}
    if not user.get("ctwa_clid") or not user.get("whatsapp_business_account_id"):
        return "user_data needs ctwa_clid and whatsapp_business_account_id."
    custom = event.get("custom_data") or {}
    if event["event_name"] == "Purchase" and not (custom.get("currency") and "value" in custom):
        return "A Purchase event needs custom_data.currency and custom_data.value."
    return None


@dataclass
class FakeConversions:
    access_token: str = "local-conversions-token"
    dataset_id: str = "local-dataset"
    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # event_id -> the first copy
    duplicates: int = 0
    requests: int = 0
    fail_next: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, dataset_id: str, query: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if self.fail_next:
                status = self.fail_next.pop(0)
                return graph_error(status, 2 if status >= 500 else 100, "Service temporarily unavailable")
            params = {k: v[-1] for k, v in parse_qs(query).items()}
            if params.get("access_token") != self.access_token:
                return graph_error(401, 190, "Invalid OAuth access token.")
            if dataset_id != self.dataset_id:
                return graph_error(400, 100, f"Unsupported post request. Object with ID '{dataset_id}' does not exist.")
            try:
                data = json.loads(body).get("data")
            except (ValueError, AttributeError):
                data = None
            if not isinstance(data, list) or not 1 <= len(data) <= 1000:
                return graph_error(400, 100, "The parameter data is required (1 to 1000 events).")
            for event in data:
                problem = event_problem(event)
                if problem:
                    return graph_error(400, 100, f"Invalid parameter: {problem}", subcode=2804066)
            for event in data:
                key = str(event.get("event_id") or uuid.uuid4().hex)
                if key in self.received:
                    self.duplicates += 1
                else:
                    self.received[key] = event
            return 200, {"events_received": len(data), "messages": [], "fbtrace_id": f"Fake{self.requests}"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """httpx.MockTransport handler: `/{version}/{dataset_id}/events`."""
        dataset_id = request.url.path.rstrip("/").split("/")[-2]
        status, payload = self.handle(dataset_id, request.url.query.decode(), request.content)
        return httpx.Response(status, json=payload)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"received": list(self.received.values()), "duplicates": self.duplicates, "requests": self.requests}

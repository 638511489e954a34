"""A fake WhatsApp Cloud API behind httpx.MockTransport, for the real WhatsApp client on moto."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


def interactive_error(body: dict[str, Any]) -> str | None:
    """The Cloud API's refusal of an interactive message over its limits (3 reply buttons, 10 list rows)."""
    if body.get("type") != "interactive":
        return None
    interactive, action = body.get("interactive") or {}, (body.get("interactive") or {}).get("action") or {}
    if interactive.get("type") == "button" and not 1 <= len(action.get("buttons") or []) <= 3:
        return "(#131009) Parameter value is not valid: buttons must have 1 to 3 items"
    rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
    if interactive.get("type") == "list" and not 1 <= len(rows) <= 10:
        return "(#131009) Parameter value is not valid: Total row count exceed max allowed count: 10"
    return None


@dataclass
class FakeGraph:
    """Answers like the Cloud API; `fail` maps a recipient to an error code returned every time.

    `latency` makes each answer take that long; `peak` is the most requests that were in flight at once."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)  # "messages" | "marketing_messages", per accepted send
    fail: dict[str, int] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    latency: float = 0.0
    peak: int = 0
    _in_flight: int = 0
    # the Groups API (docs/groups.md): calls as (method, path tail, body), group messages sent
    group_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    group_messages: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            return self.answer(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def answer(self, request: httpx.Request) -> httpx.Response:
        groups = self.groups_answer(request)
        if groups is not None:
            return groups
        body = json.loads(request.content)
        to = body.get("to") or body["recipient"]  # a phone number, else a business-scoped user id
        refused = interactive_error(body)
        if refused:
            return httpx.Response(400, json={"error": {"message": refused, "code": 131009, "fbtrace_id": "T"}})
        if to in self.fail:
            code = self.fail[to]
            return httpx.Response(400, json={"error": {"message": f"(#{code})", "code": code, "fbtrace_id": "T"}})
        self.sent.append(body)
        self.endpoints.append(request.url.path.rsplit("/", 1)[-1])
        wamid = f"wamid.{next(self.ids)}"
        return httpx.Response(
            200,
            json={
                "contacts": [{"input": to, "wa_id": to} if "to" in body else {"input": to, "user_id": to}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )

    def groups_answer(self, request: httpx.Request) -> httpx.Response | None:
        """The Groups API's answers, or None for any other request."""
        tail = "/".join(request.url.path.strip("/").split("/")[-2:])
        body: dict[str, Any] = {}
        if request.content[:1] == b"{":
            body = json.loads(request.content)
        if body.get("recipient_type") == "group":
            if body.get("type") == "interactive":
                return httpx.Response(400, json={"error": {"message": "(#131009)", "code": 131009}})
            self.group_messages.append(body)
            return httpx.Response(200, json={"messages": [{"id": f"wamid.g{next(self.ids)}"}]})
        if tail.endswith("/groups") and request.method == "POST":
            self.group_calls.append(("create", tail, body))
            return httpx.Response(200, json={"messaging_product": "whatsapp", "request_id": f"req{next(self.ids)}"})
        if tail.endswith("/invite_link"):
            self.group_calls.append(("reset_link" if request.method == "POST" else "link", tail, body))
            return httpx.Response(200, json={"invite_link": f"https://chat.whatsapp.com/New{next(self.ids)}"})
        if tail.endswith("/join_requests"):
            self.group_calls.append(("approve", tail, body))
            return httpx.Response(200, json={"approved_join_requests": body.get("join_requests", [])})
        if request.method == "DELETE":
            self.group_calls.append(("delete", tail, body))
            return httpx.Response(200, json={"success": True})
        return None

"""A fake WhatsApp Cloud API behind httpx.MockTransport, for the real WhatsApp client on moto."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


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
        body = json.loads(request.content)
        to = body.get("to") or body["recipient"]  # a phone number, else a business-scoped user id
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

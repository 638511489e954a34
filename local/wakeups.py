"""When SQS messages that a handler delayed become visible again, so a drain can wait for them.

A handler delays a message two ways: `ChangeMessageVisibility` on a record it fails (the sender's
backoff) or `SendMessage(DelaySeconds=...)`. moto honours both in real time. The runtime watches those
calls as they pass through moto (the runtime's own calls are marked and ignored) and keeps the times at
which something will wake up, so `drain()` can sleep until a near one instead of stopping early.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_internal = threading.local()


@contextmanager
def runtime_call() -> Iterator[None]:
    """Marks the AWS calls made inside as the runtime's own (not a handler's backoff)."""
    _internal.active = True
    try:
        yield
    finally:
        _internal.active = False


class WakeUps:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: list[float] = []  # time.monotonic() values of delayed sends
        self._delayed: dict[str, float] = {}  # receipt handle -> when the visibility a handler set ends

    def add(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._due.append(time.monotonic() + seconds)

    def next_due(self) -> float | None:
        """Seconds until the next wake-up still ahead (None when nothing is pending)."""
        now = time.monotonic()
        with self._lock:
            self._due = [d for d in self._due if d > now]
            self._delayed = {h: d for h, d in self._delayed.items() if d > now}
            due = [*self._due, *self._delayed.values()]
            return min(due) - now if due else None

    def pending(self) -> int:
        self.next_due()
        with self._lock:
            return len(self._due) + len(self._delayed)

    def forget(self, receipt_handles: list[str]) -> None:
        """The runtime deleted these messages: nothing will wake up for them."""
        with self._lock:
            for handle in receipt_handles:
                self._delayed.pop(handle, None)

    def delayed_by_handler(self, receipt_handle: str) -> bool:
        """True when a handler set this received message's visibility itself (0 s included)."""
        with self._lock:
            return receipt_handle in self._delayed

    def clear(self) -> None:
        with self._lock:
            self._due.clear()
            self._delayed.clear()

    def observe(self, request: Any) -> None:
        """Reads an SQS request (JSON protocol) on its way into moto."""
        if getattr(_internal, "active", False):
            return
        raw = request.headers.get("X-Amz-Target") or b""
        target = raw.decode() if isinstance(raw, bytes) else str(raw)
        if not target.startswith("AmazonSQS."):
            return
        action = target.split(".", 1)[1]
        if action not in ("ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "SendMessage", "SendMessageBatch"):
            return
        try:
            body = json.loads(request.body or b"{}")
        except (TypeError, ValueError):
            return
        key = "VisibilityTimeout" if action.startswith("Change") else "DelaySeconds"
        for entry in body.get("Entries") or [body]:
            seconds = float(entry.get(key) or 0)
            if key == "DelaySeconds":
                self.add(seconds)
            elif entry.get("ReceiptHandle"):
                with self._lock:
                    self._delayed[str(entry["ReceiptHandle"])] = time.monotonic() + seconds


WAKEUPS = WakeUps()

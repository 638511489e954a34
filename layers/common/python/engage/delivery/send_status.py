"""Delivery statuses of our sends: they only move forward, whatever order WhatsApp delivers them in.

accepted (0) < sent (1) < delivered (2) < read (3); `played` (first play of a voice message)
counts as read. `failed` is terminal: once failed, nothing moves the send again. A `failed` that
arrives after the send was read is stale: the customer has read it, so it is not also counted as
failed (WhatsApp's statuses arrive in any order; the read is the stronger evidence). A read with
no delivered before it implies delivered (WhatsApp skips the delivered webhook then), so it
also sets `delivered_at` (and `sent_at`) when they are missing. Timestamps are only ever set
once (if absent), so duplicates change nothing.

The rule is pure here (`allows`, `fields_after`); the DynamoDB adapter enforces the same rule
with one conditional UpdateItem, and the in-memory fake in the tests uses these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

RANKS = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 3}
FAILED = "failed"
READ_RANK = RANKS["read"]  # a failed status is stale from here on
# Error codes with a lasting consequence for the customer (see delivery/whatsapp_errors.py).
STOPPED_MARKETING = 131050
UNDELIVERABLE = 131026

Outcome = Literal["applied", "stale", "missing"]


@dataclass(frozen=True)
class SendRef:
    """Which send item: one per (customer, send key)."""

    customer_id: str
    send_key: str


@dataclass(frozen=True)
class StatusChange:
    wamid: str
    status: str  # sent | delivered | read | failed (played is stored as read)
    at: str  # ISO time of the status
    error_code: int | None = None
    error_title: str | None = None
    pricing_category: str | None = None
    pricing_model: str | None = None
    billable: bool | None = None

    @property
    def rank(self) -> int | None:
        return None if self.status == FAILED else RANKS[self.status]

    @property
    def timestamps(self) -> dict[str, str]:
        """The `<status>_at` fields this status sets when they are still absent."""
        if self.status == FAILED:
            return {"failed_at": self.at}
        implied = [name for name, rank in RANKS.items() if 1 <= rank <= (self.rank or 0) and name != "played"]
        return {f"{name}_at": self.at for name in implied}

    @property
    def fields(self) -> dict[str, Any]:
        """The fields this status sets unconditionally (when it is allowed at all)."""
        values: dict[str, Any] = {"status": self.status}
        if self.rank is not None:
            values["status_rank"] = self.rank
        if self.status == FAILED:
            values["error_code"] = self.error_code
            values["error_title"] = self.error_title
        values["pricing_category"] = self.pricing_category
        values["pricing_model"] = self.pricing_model
        values["billable"] = self.billable
        return {k: v for k, v in values.items() if v is not None}


def normalise(status: str) -> str | None:
    """The stored status name for a webhook status, or None for one we do not track."""
    if status == "played":
        return "read"
    return status if status in RANKS or status == FAILED else None


def allows(current: dict[str, Any] | None, change: StatusChange) -> Outcome:
    """Whether `change` may be applied to the send item `current` (None: no such send)."""
    if current is None:
        return "missing"
    if current.get("status") == FAILED:
        return "stale"
    rank = current.get("status_rank")
    if change.rank is None:
        return "stale" if rank is not None and int(rank) >= READ_RANK else "applied"
    return "applied" if rank is None or int(rank) < change.rank else "stale"


def fields_after(current: dict[str, Any], change: StatusChange) -> dict[str, Any]:
    """The send item after an allowed change (what the conditional update does, in memory)."""
    updated = dict(current)
    for name, value in change.timestamps.items():
        updated.setdefault(name, value)
    updated.setdefault("wamid", change.wamid)
    updated.update(change.fields)
    return updated

"""What the webhook writes for a customer: history items, and conditional profile updates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


class HistoryEvent(BaseModel):
    """One item of a customer's history, unique by (customer, kind, event id), ordered by `occurred_at`."""

    customer_id: str
    kind: str
    event_id: str
    occurred_at: str
    received_at: str
    data: dict[str, Any] = {}


@dataclass
class ProfileTouch:
    """One conditional profile update. `not_after`: path -> ISO time; the update applies only
    if the stored value is absent or not later (so an older event never overwrites a newer)."""

    set: dict[str, Any] = field(default_factory=dict)
    set_if_absent: dict[str, Any] = field(default_factory=dict)
    not_after: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.set or self.set_if_absent)

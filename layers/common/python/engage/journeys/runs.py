"""A run: one customer's way through one version of one journey.

One run item per (customer, journey): the current run, or the last one once it ended (re-entry
is checked against it). `seq` counts the run's moves; every move is a conditional write on it, so
two workers (a redelivered wake-up, a replayed event) never both move a run.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict

RunState = Literal["active", "waiting", "done"]
Outcome = Literal["converted", "exited"]
DUE_SHARDS = 16


class Run(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_id: str
    journey_id: str
    version: int
    run_no: int = 1
    trigger_id: str  # the event that started it (a replayed trigger never starts another run)
    step: str | None
    seq: int = 0
    state: RunState = "active"
    due_at: str | None = None  # the due index's sort key: when a wait ends; `now` for an active run
    waiting_for: str | None = None  # waiting for an event kind (`reply`, `order_placed`, ...)
    waiting_since: str | None = None
    entered_at: str
    ended_at: str | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    arm: str | None = None
    coupon: str | None = None
    asked: str | None = None  # the last question step sent (its answers become tags)
    sent: list[str] = []

    @property
    def run_id(self) -> str:
        return f"{self.journey_id}:{self.run_no}"

    @property
    def shard(self) -> int:
        return due_shard(self.customer_id, self.journey_id)


def due_shard(customer_id: str, journey_id: str) -> int:
    digest = hashlib.blake2b(f"{customer_id}|{journey_id}".encode(), digest_size=2).digest()
    return int.from_bytes(digest, "big") % DUE_SHARDS


def unit_hash(*parts: str) -> float:
    """A stable number in [0, 1) per parts (the A/B split of a customer)."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def send_key(run: Run, step_id: str) -> str:
    """Stable per (journey, run number, step): a redelivered or repeated step queues the same send."""
    return f"journey:{run.journey_id}:{run.run_no}:{step_id}"


def source_id(journey_id: str) -> str:
    """The campaign slot of a journey's sends (metrics count them like a campaign's, per step)."""
    return f"journey:{journey_id}"

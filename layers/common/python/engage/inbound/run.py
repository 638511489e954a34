"""One notification being processed: its ports, config, clock, report, and what every step shares."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from engage.core.observability import logger
from engage.core.time import from_epoch, iso
from engage.customers.profiles import Consent, Customer
from engage.inbound.config import InboundConfig
from engage.inbound.history import ProfileTouch
from engage.inbound.ports import InboundPorts

T = TypeVar("T")


class Unusable(Exception):
    """A part of a notification that cannot be used as it is (kept as rejected with this reason)."""


@dataclass
class Report:
    messages: int = 0
    duplicates: int = 0
    statuses: int = 0
    stale_statuses: int = 0
    unmatched_statuses: int = 0
    preferences: int = 0
    kept: int = 0
    replies_queued: int = 0
    rejected: int = 0
    truncated: int = 0
    other_number: int = 0
    group_notices: int = 0
    group_messages: int = 0


@dataclass
class Run:
    """One notification being processed: ports, config, clock, report and a customer cache."""

    ports: InboundPorts
    config: InboundConfig
    now: datetime
    report: Report = field(default_factory=Report)
    customers: dict[tuple[str | None, str | None], Customer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self.report, name, getattr(self.report, name) + n)

    def fan_out(self, tasks: list[Callable[[], None]]) -> None:
        """Runs independent tasks (one customer's messages, one send's statuses) on the pool if any."""
        pool = self.ports.pool
        if pool is None or len(tasks) < 2:
            for task in tasks:
                task()
            return
        futures = [pool.submit(task) for task in tasks]
        wait(futures)
        for future in futures:
            future.result()  # the first failure fails the notification: Meta retries it

    def isolate(self, where: str, raw: Any, task: Callable[[], T]) -> T | None:
        """Runs `task` for one part of the notification (a message, a status, a change). When the part
        itself is the problem it is kept as rejected with the reason and None is returned, so the rest
        proceeds; an infrastructure failure (`ports.transient`) propagates, so Meta retries."""
        try:
            return task()
        except Unusable as error:
            logger.info("webhook part rejected", extra={"where": where, "reason": str(error)[:200]})
            self.reject(where, raw, str(error))
        except Exception as error:
            if self.ports.transient(error):
                raise
            logger.exception("webhook part could not be processed, kept as rejected", extra={"where": where})
            self.reject(where, raw, f"{type(error).__name__}: {error}")
        return None

    def reject(self, where: str, raw: Any, reason: str) -> None:
        self.count("rejected")
        self.keep("rejected", {"where": where, "raw": raw, "reason": reason[:500]})

    def keep(self, reason: str, content: Any, key: str | None = None) -> None:
        if self.ports.store.keep(reason, content, now=self.now, key=key, days=self.config.inspection_days):
            self.count("kept")


def touch_profile(run: Run, customer: Customer, build: Callable[[Customer], ProfileTouch], attempts: int = 3) -> None:
    """Applies `build(customer)`; when a guard fails (a newer write raced us) re-reads and rebuilds."""
    current = customer
    for _ in range(attempts):
        touch = build(current)
        if not touch:
            return
        if run.ports.store.touch_profile(current.id, touch):
            _apply_in_memory(customer, touch)
            return
        fresh = run.ports.customers.get(current.id)
        if fresh is None:
            return
        current = fresh
    logger.warning("profile update kept losing races", extra={"customer_id": customer.id})


def _apply_in_memory(customer: Customer, touch: ProfileTouch) -> None:
    for name, value in {**touch.set_if_absent, **touch.set}.items():
        if name == "consent":
            customer.consent = Consent.model_validate(value)
        elif name in Customer.model_fields:
            setattr(customer, name, value)


def event_time(timestamp: str, now: datetime) -> str:
    """A webhook's epoch-seconds timestamp as ISO (the receive time when it is missing or bad)."""
    try:
        return iso(from_epoch(timestamp))
    except (TypeError, ValueError, OverflowError, OSError):
        return iso(now)

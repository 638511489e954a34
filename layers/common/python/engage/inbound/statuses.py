"""Delivery statuses of our sends: each moves its send item forward (engage.delivery.send_status),
found through the callback data or the wamid; a lasting failure changes the customer's profile."""

from __future__ import annotations

from functools import partial

from engage.customers.profiles import Consent, first_id
from engage.delivery.callback_data import parse_callback_data
from engage.delivery.send_status import STOPPED_MARKETING, UNDELIVERABLE, SendRef, StatusChange, normalise
from engage.inbound.bounds import clip
from engage.inbound.history import ProfileTouch
from engage.inbound.payloads import Status, Value
from engage.inbound.ports import InboundStore
from engage.inbound.run import Run, event_time


def process_statuses(run: Run, value: Value) -> None:
    """Statuses of one send stay in order (one task); different sends run side by side."""
    by_send: dict[str, list[Status]] = {}
    for status in value.statuses:
        by_send.setdefault(status.biz_opaque_callback_data or status.id, []).append(status)
    run.fan_out([partial(_process_in_order, run, group) for group in by_send.values()])


def _process_in_order(run: Run, group: list[Status]) -> None:
    for status in group:
        run.isolate("statuses", status.raw, partial(process_status, run, status))


def process_status(run: Run, status: Status) -> None:
    name = normalise(status.status)
    if name is None:
        run.keep("unknown_status", status.raw, key=f"{status.id}#{status.status}")
        return
    error = status.errors[0] if status.errors else None
    pricing = status.pricing
    change = StatusChange(
        wamid=status.id,
        status=name,
        at=event_time(status.timestamp, run.now),
        error_code=error.code if error else None,
        error_title=clip(error.title or error.message, 512) if error else None,
        pricing_category=clip(pricing.category, 64) if pricing else None,
        pricing_model=clip(pricing.pricing_model, 64) if pricing else None,
        billable=pricing.billable if pricing else None,
    )
    ref = send_ref(run.ports.store, status)
    outcome = run.ports.store.apply_status(ref, change) if ref else "missing"
    if outcome == "applied":
        run.count("statuses")
    elif outcome == "stale":
        run.count("stale_statuses")
        return
    else:
        run.count("unmatched_statuses")
        run.keep("unmatched_status", status.raw, key=f"{status.id}#{status.status}")
    customer_id = ref.customer_id if ref and outcome == "applied" else recipient(run, status)
    if customer_id and change.error_code in (STOPPED_MARKETING, UNDELIVERABLE):
        failure_consequence(run, customer_id, change)


def send_ref(store: InboundStore, status: Status) -> SendRef | None:
    return parse_callback_data(status.biz_opaque_callback_data) or store.send_for_wamid(status.id)


def recipient(run: Run, status: Status) -> str | None:
    """The customer of a status we could not match to a send (never created here)."""
    return first_id(run.ports.customers, [("user_id", status.recipient_user_id), ("wa_id", status.recipient_id)])


def failure_consequence(run: Run, customer_id: str, change: StatusChange) -> None:
    """131050: the customer stopped marketing -> opt-out. 131026: the number is undeliverable."""
    touch = ProfileTouch()
    if change.error_code == STOPPED_MARKETING:
        touch.set["consent"] = Consent(marketing=False, updated_at=change.at, source="whatsapp:131050").model_dump()
        touch.not_after["consent.updated_at"] = change.at
    else:
        touch.set.update(undeliverable=True, undeliverable_at=change.at)
        touch.not_after["last_inbound_at"] = change.at
    run.ports.store.touch_profile(customer_id, touch)

"""Consent from WhatsApp's user preferences (stop / resume marketing), and what every consent change shares:
folding it into the profile unless the stored consent is newer, and the confirmation reply."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from engage.core.time import iso, parse_iso
from engage.customers import consent
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob, TextMessage
from engage.inbound.bounds import MAX_STRING, clip
from engage.inbound.history import HistoryEvent, ProfileTouch
from engage.inbound.identity import customer_for, prefetch, sender_of
from engage.inbound.payloads import Value
from engage.inbound.run import Run, event_time, touch_profile
from engage.inbound.sender_payloads import UserPreference

PREFERENCE_ACTIONS: dict[str, consent.Action] = {"stop": "opt_out", "resume": "opt_in"}


def process_preferences(run: Run, value: Value) -> None:
    if value.user_preferences:
        prefetch(run, value)
    for preference in value.user_preferences:
        action = PREFERENCE_ACTIONS.get(preference.value.lower())
        if action is None or preference.category not in ("", "marketing_messages"):
            run.keep("unknown_preference", preference.raw)
            continue
        run.isolate("user_preferences", preference.raw, partial(store_for_sender, run, value, preference, action))


def store_for_sender(run: Run, value: Value, preference: UserPreference, action: consent.Action) -> None:
    customer = customer_for(run, sender_of(value, preference.wa_id, preference.user_id))
    store_preference(run, customer, preference, action)


def store_preference(run: Run, customer: Customer, preference: UserPreference, action: consent.Action) -> None:
    at = event_time(preference.timestamp, run.now)
    event = HistoryEvent(
        customer_id=customer.id,
        kind="consent",
        event_id=f"user_preferences:{preference.value.lower()}:{preference.timestamp or at}",
        occurred_at=at,
        received_at=iso(run.now),
        data={
            "source": "user_preferences",
            "value": preference.value.lower(),
            "category": preference.category,
            "detail": clip(preference.detail, MAX_STRING),
            "consent_action": action,
        },
    )

    def build(current: Customer) -> ProfileTouch:
        touch = ProfileTouch()
        consent_touch(touch, current, action == "opt_in", at, "user_preferences")
        return touch

    touch_profile(run, customer, build)
    if run.ports.store.put_event(event):
        run.count("preferences")
    else:
        run.count("duplicates")  # still confirmed below: see messages.store_group
    if window_open(customer, run.now, run.config.service_window_hours):
        queue_confirmation(run, customer.id, event.event_id, action, run.config.default_language)


def consent_touch(touch: ProfileTouch, customer: Customer, marketing: bool, at: str, source: str) -> None:
    """Folds a consent change into `touch` unless the stored consent is newer."""
    stored = customer.consent
    if stored.updated_at and (stored.updated_at > at or (stored.updated_at == at and stored.marketing == marketing)):
        return
    touch.set["consent"] = Consent(marketing=marketing, updated_at=at, source=source).model_dump()
    touch.not_after["consent.updated_at"] = at


def queue_confirmation(run: Run, customer_id: str, ref: str, action: str, language: str) -> None:
    text = run.config.confirmation(action, language) if run.config.confirm_consent else None
    if not text:
        return
    job = SendJob(
        customer_id=customer_id,
        send_key=f"tx:consent:{ref}",
        category="utility",
        message=TextMessage(text=text),
        reason=f"consent:{action}",
    )
    run.ports.queue.send([job.model_dump(mode="json")])
    run.count("replies_queued")


def window_open(customer: Customer, now: datetime, hours: float) -> bool:
    if not customer.last_inbound_at:
        return False
    return now - parse_iso(customer.last_inbound_at) < timedelta(hours=hours)

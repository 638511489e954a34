"""Inbound WhatsApp notifications: messages, statuses, user preferences, stored once.

`process_notification(notification, now=, ports=, config=)` is the whole synchronous job
of the webhook. For every inbound message, in this order (each step idempotent, the history
put is the commit point):

1. resolve the sender to one customer (`resolve_customer`; `system` messages move identities);
2. conditional puts that must not depend on replay order: the source-channel tag of a
   click-to-WhatsApp referral, the invite record of a first message with a referral code;
3. one profile update per customer and notification: name, first_seen_at, last_inbound_at,
   last_interaction_at (forward only) and consent (only if newer than the stored consent);
4. the history item `EVT#<time>#message#<wamid>` with `if_absent` (a duplicate stops here);
5. for a new consent keyword, a confirmation reply queued as a utility `SendJob`.

Statuses update the send item they belong to (found through `biz_opaque_callback_data` or
the `WAMID#<wamid>` pointer) with one conditional update that only moves forward
(`engage.delivery.send_status`). Whatever cannot be used is kept for inspection, never dropped.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engage.core import phones
from engage.core.observability import logger
from engage.core.ports import Queue
from engage.core.time import from_epoch, iso, parse_iso
from engage.core.types import TagName
from engage.customers import consent
from engage.customers.ports import IdentityStore
from engage.customers.profiles import Consent, Customer, clean, resolve_customer
from engage.delivery.callback_data import parse_callback_data
from engage.delivery.jobs import SendJob, TextMessage
from engage.delivery.send_status import (
    STOPPED_MARKETING,
    UNDELIVERABLE,
    SendRef,
    StatusChange,
    normalise,
)
from engage.inbound.payloads import Message, Notification, Status, UserPreference, Value, parse_notification
from engage.inbound.ports import InboundStore

CONFIG_AREA = "webhook"
NOT_INBOUND = {"system"}  # message types that are not the customer writing to us


class InboundConfig(BaseModel):
    """Marketer-tunable settings of the webhook (CONFIG / webhook overrides any field)."""

    model_config = ConfigDict(extra="ignore")

    opt_out_keywords: dict[str, list[str]] = Field(default_factory=lambda: dict(consent.DEFAULT_OPT_OUT))
    opt_in_keywords: dict[str, list[str]] = Field(default_factory=lambda: dict(consent.DEFAULT_OPT_IN))
    opt_out_payloads: list[str] = Field(default_factory=lambda: ["STOP_PROMOTIONS"])
    opt_in_payloads: list[str] = Field(default_factory=lambda: ["START_PROMOTIONS"])
    confirm_consent: bool = True
    confirmations: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(consent.DEFAULT_CONFIRMATIONS))
    default_language: str = "en"
    service_window_hours: float = 24
    referral_code_pattern: str = r"\bref[\s:#=_-]*([A-Za-z0-9]{4,32})\b"
    referral_tags: dict[str, TagName] = Field(
        default_factory=lambda: {"ad": "source:ctwa-ad", "post": "source:ctwa-post"}
    )
    referral_default_tag: TagName = "source:ctwa"
    inspection_days: int = 30

    @cached_property
    def keywords(self) -> dict[str, tuple[consent.Action, str]]:
        return consent.keyword_index(self.opt_out_keywords, self.opt_in_keywords)

    @cached_property
    def referral_code(self) -> re.Pattern[str]:
        return re.compile(self.referral_code_pattern, re.IGNORECASE)

    def confirmation(self, action: str, language: str) -> str | None:
        texts = self.confirmations.get(action, {})
        return texts.get(language) or texts.get(self.default_language)


def load_config(store: InboundStore) -> InboundConfig:
    raw = store.config(CONFIG_AREA) or {}
    try:
        return InboundConfig.model_validate(raw)
    except ValidationError as error:
        logger.warning("invalid webhook config, using defaults", extra={"error": str(error)[:500]})
        return InboundConfig()


# ---------------------------------------------------------------- what is written
class HistoryEvent(BaseModel):
    """A customer history item (`CUST#<id>` / `EVT#<occurred_at>#<kind>#<event_id>`)."""

    customer_id: str
    kind: str
    event_id: str
    occurred_at: str
    received_at: str
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass
class ProfileTouch:
    """One conditional profile update. `not_after`: path -> ISO time; the update applies only
    if the stored value is absent or not later (so an older event never overwrites a newer)."""

    set: dict[str, Any] = field(default_factory=dict)
    set_if_absent: dict[str, Any] = field(default_factory=dict)
    not_after: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.set or self.set_if_absent)


@dataclass
class InboundPorts:
    customers: IdentityStore
    store: InboundStore
    queue: Queue
    pool: Executor | None = None  # independent writes in parallel (thread-safe adapters only)


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


@dataclass
class Sender:
    wa_id: str | None
    user_id: str | None
    name: str | None = None
    username: str | None = None
    country: str | None = None


@dataclass
class Inbound:
    """One parsed message on its way to storage."""

    message: Message
    customer: Customer
    event: HistoryEvent
    action: tuple[consent.Action, str] | None = None
    referral_code: str | None = None

    @property
    def counts_as_inbound(self) -> bool:
        return self.message.type not in NOT_INBOUND


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

    def keep(self, reason: str, content: Any, key: str | None = None) -> None:
        if self.ports.store.keep(reason, content, now=self.now, key=key, days=self.config.inspection_days):
            self.count("kept")


# ---------------------------------------------------------------- entry point
def receive(body: bytes, *, now: datetime, ports: InboundPorts, config: InboundConfig | None = None) -> Report:
    """A signed POST body: parsed and processed; a body that is not a JSON object is kept whole."""
    problem: str | None = None
    try:
        document = json.loads(body)
    except ValueError as error:
        document, problem = None, f"not JSON: {error}"
    if problem is None and not isinstance(document, dict):
        problem = "not a JSON object"
    if problem is not None:
        logger.warning("signed webhook body could not be parsed", extra={"problem": problem[:200]})
        run = Run(ports=ports, config=config or load_config(ports.store), now=now)
        run.keep("unparsed", body.decode("utf-8", errors="replace"))
        return run.report
    return process_notification(parse_notification(document), now=now, ports=ports, config=config)


def process_notification(
    notification: Notification, *, now: datetime, ports: InboundPorts, config: InboundConfig | None = None
) -> Report:
    run = Run(ports=ports, config=config or load_config(ports.store), now=now)
    for rejected in notification.all_rejected():
        run.keep("rejected", rejected.model_dump(mode="json"))
    if not notification.is_whatsapp:
        run.keep("object", notification.raw)
        return run.report
    for change in notification.changes():
        if change.field == "messages":
            process_messages(run, change.value)
            process_statuses(run, change.value)
        elif change.field == "user_preferences":
            process_preferences(run, change.value)
        else:
            run.keep(f"field#{change.field or 'none'}", change.raw)
        if change.value.errors:
            logger.warning("whatsapp reported errors", extra={"errors": [e.model_dump() for e in change.value.errors]})
            run.keep("errors", change.raw)
    return run.report


# ---------------------------------------------------------------- identities
def sender_of(value: Value, wa_id: str | None, user_id: str | None) -> Sender:
    wa_id, user_id = clean(wa_id), clean(user_id)
    contact = value.contact_for(wa_id or "", user_id or "")
    if contact is None:
        return Sender(wa_id=wa_id, user_id=user_id)
    return Sender(
        wa_id=wa_id or clean(contact.wa_id),
        user_id=user_id or clean(contact.user_id),
        name=clean(contact.profile.name),
        username=clean(contact.profile.username),
        country=clean(contact.profile.country_code),
    )


def customer_for(run: Run, sender: Sender, seen: datetime | None = None) -> Customer | None:
    """The sender's customer, created (first seen at `seen`) when unknown; None without an identity."""
    if not sender.wa_id and not sender.user_id:
        return None
    key = (sender.wa_id, sender.user_id)
    if key not in run.customers:
        customer, _ = resolve_customer(
            run.ports.customers, wa_id=sender.wa_id, user_id=sender.user_id, name=sender.name, now=seen or run.now
        )
        run.customers[key] = customer
    return run.customers[key]


CHANGED_FROM = re.compile(r"changed from\s+(\S+)\s+to\s+(\S+)", re.IGNORECASE)


def previous_identity(body: str | None) -> str | None:
    """`User A changed from <old> to <new>` -> `<old>` (bidi marks removed)."""
    match = CHANGED_FROM.search((body or "").replace("\u200e", "").replace("\u200f", ""))
    return match.group(1) if match else None


def apply_identity_change(run: Run, message: Message) -> Customer | None:
    """`user_changed_number` / `user_changed_user_id`: move the customer's identities to the new ones."""
    system = message.system
    if system is None:
        return None
    store = run.ports.customers
    old_wa, old_user = clean(message.from_), clean(message.from_user_id)
    new_wa, new_user = clean(system.wa_id or system.new_wa_id), clean(system.user_id)
    previous = previous_identity(system.body)
    if system.type == "user_changed_user_id" and not old_user and previous and not previous.isdigit():
        old_user = previous
    if system.type == "user_changed_number" and not old_wa and previous and previous.isdigit():
        old_wa = previous
    customer_id = _first_id(store, [("user_id", old_user), ("wa_id", old_wa), ("user_id", new_user), ("wa_id", new_wa)])
    if customer_id is None or (customer := store.get(customer_id)) is None:
        return customer_for(run, Sender(wa_id=new_wa or old_wa, user_id=new_user or old_user))
    if new_wa and new_wa != customer.wa_id:
        _move(run, customer, "wa_id", new_wa)
    if new_user and new_user != customer.user_id:
        _move(run, customer, "user_id", new_user)
    return customer


def _first_id(store: IdentityStore, candidates: Iterable[tuple[str, str | None]]) -> str | None:
    for kind, value in candidates:
        if value and (found := store.find_id(**{kind: value})):
            return found
    return None


def _move(run: Run, customer: Customer, kind: str, value: str) -> None:
    old = {kind: getattr(customer, kind)}
    if run.ports.customers.move_identity(customer.id, old=old, new={kind: value}):
        setattr(customer, kind, value)
        if kind == "wa_id":
            customer.country, customer.timezone = phones.region_of(value), phones.timezone_of(value)
            run.ports.customers.update(customer.id, country=customer.country, timezone=customer.timezone)
    else:
        logger.warning("identity belongs to another customer", extra={"customer_id": customer.id, "kind": kind})
        run.keep("identity_conflict", {"customer_id": customer.id, kind: value}, key=f"{kind}#{value}")


# ---------------------------------------------------------------- messages
def prefetch(run: Run, value: Value) -> None:
    """Lets a store that can (one BatchGetItem) read every identity of this value at once."""
    fetch = getattr(run.ports.customers, "prefetch", None)
    if fetch is None:
        return
    wa_ids = [c.wa_id for c in value.contacts] + [p.wa_id for p in value.user_preferences]
    user_ids = [c.user_id for c in value.contacts] + [p.user_id for p in value.user_preferences]
    for message in value.messages:
        wa_ids.append(message.from_)
        user_ids.append(message.from_user_id)
        if message.system:
            wa_ids.append(message.system.wa_id or message.system.new_wa_id or "")
            user_ids.append(message.system.user_id or "")
    fetch(wa_ids=[w for w in wa_ids if w], user_ids=[u for u in user_ids if u])


def process_messages(run: Run, value: Value) -> None:
    if value.messages:
        prefetch(run, value)
    parsed: list[Inbound] = []
    for message in value.messages:
        inbound = parse_inbound(run, value, message)
        if inbound is None:
            run.keep("rejected", {"where": "messages", "raw": message.raw, "reason": "no sender identity"})
        else:
            parsed.append(inbound)
    by_customer: dict[str, list[Inbound]] = {}
    for inbound in parsed:
        by_customer.setdefault(inbound.customer.id, []).append(inbound)
    run.fan_out([partial(store_group, run, group) for group in by_customer.values()])


def parse_inbound(run: Run, value: Value, message: Message) -> Inbound | None:
    sender = sender_of(value, message.from_, message.from_user_id)
    occurred = _time(message.timestamp, run.now)
    if message.type == "system":
        customer = apply_identity_change(run, message)
    else:
        customer = customer_for(run, sender, parse_iso(occurred))
    if customer is None:
        return None
    event = HistoryEvent(
        customer_id=customer.id,
        kind="message",
        event_id=message.id,
        occurred_at=occurred,
        received_at=iso(run.now),
        data=message_data(message, sender),
    )
    inbound = Inbound(message=message, customer=customer, event=event, action=consent_action(message, run.config))
    if inbound.action:
        event.data["consent_action"] = inbound.action[0]
    if message.text and inbound.counts_as_inbound:
        match = run.config.referral_code.search(message.text.body)
        inbound.referral_code = match.group(1) if match else None
    return inbound


def store_group(run: Run, group: list[Inbound]) -> None:
    """One customer's messages of this notification: side items, one profile update, history puts."""
    customer = group[0].customer
    first_contact = customer.last_inbound_at is None
    for inbound in group:
        record_referrals(run, inbound, first_contact)
    touch_profile(run, customer, lambda current: message_touch(current, group))
    confirm_for: Inbound | None = None
    for inbound in sorted(group, key=lambda i: i.event.occurred_at):
        if run.ports.store.put_event(inbound.event):
            run.count("messages")
        else:
            run.count("duplicates")
        if inbound.action:
            # Queued on a redelivery too: a crash between the history put and the queue would
            # otherwise lose it, and its send key makes the sender send it once.
            confirm_for = inbound
    if confirm_for is not None and confirm_for.action:
        action, language = confirm_for.action
        queue_confirmation(run, customer.id, confirm_for.event.event_id, action, language)


def record_referrals(run: Run, inbound: Inbound, first_contact: bool) -> None:
    referral = inbound.message.referral
    if referral is not None:
        tag = run.config.referral_tags.get(referral.source_type or "", run.config.referral_default_tag)
        reason = f"click-to-whatsapp {referral.source_type or 'referral'} {referral.source_id or ''}".strip()
        run.ports.store.put_tag(
            inbound.customer.id,
            tag,
            since=inbound.event.occurred_at,
            source="webhook",
            reason=reason,
            event_id=inbound.message.id,
        )
    if inbound.referral_code and first_contact:
        run.ports.store.put_referral_invite(
            inbound.referral_code, inbound.customer.id, at=inbound.event.occurred_at, wamid=inbound.message.id
        )
        inbound.event.data["referral_code"] = inbound.referral_code


def message_touch(customer: Customer, group: list[Inbound]) -> ProfileTouch:
    touch = ProfileTouch()
    times = [i.event.occurred_at for i in group if i.counts_as_inbound]
    if times:
        latest = max(times)
        for name in ("last_inbound_at", "last_interaction_at"):
            if _later(latest, getattr(customer, name)):
                touch.set[name] = latest
                touch.not_after[name] = latest
        if not customer.first_seen_at:
            touch.set_if_absent["first_seen_at"] = min(times)
        if customer.undeliverable:
            touch.set["undeliverable"] = False
    latest_inbound = max(group, key=lambda i: i.event.occurred_at)
    data = latest_inbound.event.data
    if data.get("name") and data["name"] != customer.name:
        touch.set["name"] = data["name"]
    if data.get("country_code") and not customer.country:
        touch.set["country"] = data["country_code"]
    codes = [i.event.data["referral_code"] for i in group if i.event.data.get("referral_code")]
    if codes:
        touch.set_if_absent["referred_by_code"] = codes[0]
    actions = [i for i in group if i.action]
    if actions:
        last = max(actions, key=lambda i: i.event.occurred_at)
        assert last.action is not None
        consent_touch(touch, customer, last.action[0] == "opt_in", last.event.occurred_at, "keyword")
    return touch


def consent_touch(touch: ProfileTouch, customer: Customer, marketing: bool, at: str, source: str) -> None:
    """Folds a consent change into `touch` unless the stored consent is newer."""
    stored = customer.consent
    if stored.updated_at and (stored.updated_at > at or (stored.updated_at == at and stored.marketing == marketing)):
        return
    touch.set["consent"] = Consent(marketing=marketing, updated_at=at, source=source).model_dump()
    touch.not_after["consent.updated_at"] = at


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


def consent_action(message: Message, config: InboundConfig) -> tuple[consent.Action, str] | None:
    """opt_out / opt_in (with the keyword's language) for a message that is a consent keyword."""
    payloads = [message.button.payload if message.button else None]
    texts = [message.text.body if message.text else None, message.button.text if message.button else None]
    if message.interactive:
        for option in (message.interactive.button_reply, message.interactive.list_reply):
            if option:
                payloads.append(option.id)
                texts.append(option.title)
    for payload in filter(None, payloads):
        if payload in config.opt_out_payloads:
            return "opt_out", config.default_language
        if payload in config.opt_in_payloads:
            return "opt_in", config.default_language
    for text in texts:
        if found := consent.match_keyword(text, config.keywords):
            return found
    return None


# ---------------------------------------------------------------- message payloads
def message_data(message: Message, sender: Sender) -> dict[str, Any]:
    """The history item's `data`: the type, the text, the payload and what the tagger needs."""
    data: dict[str, Any] = {
        "type": message.type,
        "wa_id": sender.wa_id,
        "user_id": sender.user_id,
        "name": sender.name,
        "username": sender.username,
        "country_code": sender.country,
    }
    data.update(PAYLOADS.get(message.type, _unknown)(message))
    if message.context:
        data["context_id"] = message.context.id
        data["context_from"] = message.context.from_
        data["forwarded"] = message.context.forwarded or message.context.frequently_forwarded or None
        if message.context.referred_product:
            data["referred_product"] = message.context.referred_product.model_dump(exclude_none=True)
    if message.referral:
        data["referral"] = message.referral.model_dump(exclude_none=True)
    if message.errors:
        data["errors"] = [e.model_dump(exclude_none=True) for e in message.errors]
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def _text(message: Message) -> dict[str, Any]:
    return {"text": message.text.body if message.text else None}


def _button(message: Message) -> dict[str, Any]:
    button = message.button
    return {"text": button.text, "payload": button.payload} if button else {}


def _interactive(message: Message) -> dict[str, Any]:
    interactive = message.interactive
    if interactive is None:
        return {}
    option = interactive.button_reply or interactive.list_reply
    data: dict[str, Any] = {"interactive_type": interactive.type}
    if option:
        data.update(text=option.title, payload=option.id, description=option.description)
    if interactive.nfm_reply:
        data.update(text=interactive.nfm_reply.body, flow_name=interactive.nfm_reply.name)
        data["flow_response"] = interactive.nfm_reply.response_json
    return data


def _media(message: Message) -> dict[str, Any]:
    media = message.media
    if media is None:
        return {}
    return {
        "media_id": media.id,
        "mime_type": media.mime_type,
        "text": media.caption,
        "filename": media.filename,
        "voice": media.voice,
        "animated": media.animated,
    }


def _location(message: Message) -> dict[str, Any]:
    return {"location": message.location.model_dump(exclude_none=True)} if message.location else {}


def _contacts(message: Message) -> dict[str, Any]:
    shared = [
        {"name": c.name.formatted_name, "phones": [p.wa_id or p.phone for p in c.phones if p.wa_id or p.phone]}
        for c in message.contacts or []
    ]
    return {"contacts": shared}


def _reaction(message: Message) -> dict[str, Any]:
    reaction = message.reaction
    return {"reacted_to": reaction.message_id, "emoji": reaction.emoji or None} if reaction else {}


def _order(message: Message) -> dict[str, Any]:
    order = message.order
    if order is None:
        return {}
    items = [i.model_dump(exclude_none=True) for i in order.product_items]
    return {"catalog_id": order.catalog_id, "text": order.text, "items": items}


def _system(message: Message) -> dict[str, Any]:
    system = message.system
    if system is None:
        return {}
    return {
        "system_type": system.type,
        "text": system.body,
        "new_wa_id": system.wa_id or system.new_wa_id,
        "new_user_id": system.user_id,
    }


def _unknown(message: Message) -> dict[str, Any]:
    """A type we do not model (or `unsupported`): keep the whole raw message."""
    data: dict[str, Any] = {"raw": message.raw}
    if message.unsupported:
        data["unsupported_type"] = message.unsupported.type
    return data


PAYLOADS = {
    "text": _text,
    "button": _button,
    "interactive": _interactive,
    "image": _media,
    "video": _media,
    "audio": _media,
    "document": _media,
    "sticker": _media,
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
}


# ---------------------------------------------------------------- statuses
def process_statuses(run: Run, value: Value) -> None:
    """Statuses of one send stay in order (one task); different sends run side by side."""
    by_send: dict[str, list[Status]] = {}
    for status in value.statuses:
        by_send.setdefault(status.biz_opaque_callback_data or status.id, []).append(status)
    run.fan_out([partial(_process_in_order, run, group) for group in by_send.values()])


def _process_in_order(run: Run, group: list[Status]) -> None:
    for status in group:
        process_status(run, status)


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
        at=_time(status.timestamp, run.now),
        error_code=error.code if error else None,
        error_title=(error.title or error.message) if error else None,
        pricing_category=pricing.category if pricing else None,
        pricing_model=pricing.pricing_model if pricing else None,
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
    customer_id = ref.customer_id if ref and outcome == "applied" else _recipient(run, status)
    if customer_id and change.error_code in (STOPPED_MARKETING, UNDELIVERABLE):
        failure_consequence(run, customer_id, change)


def send_ref(store: InboundStore, status: Status) -> SendRef | None:
    return parse_callback_data(status.biz_opaque_callback_data) or store.send_for_wamid(status.id)


def _recipient(run: Run, status: Status) -> str | None:
    """The customer of a status we could not match to a send (never created here)."""
    return _first_id(run.ports.customers, [("user_id", status.recipient_user_id), ("wa_id", status.recipient_id)])


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


# ---------------------------------------------------------------- user preferences
PREFERENCE_ACTIONS: dict[str, consent.Action] = {"stop": "opt_out", "resume": "opt_in"}


def process_preferences(run: Run, value: Value) -> None:
    if value.user_preferences:
        prefetch(run, value)
    for preference in value.user_preferences:
        action = PREFERENCE_ACTIONS.get(preference.value.lower())
        if action is None or preference.category not in ("", "marketing_messages"):
            run.keep("unknown_preference", preference.raw)
            continue
        customer = customer_for(run, sender_of(value, preference.wa_id, preference.user_id))
        if customer is None:
            run.keep("rejected", {"where": "user_preferences", "raw": preference.raw, "reason": "no identity"})
            continue
        store_preference(run, customer, preference, action)


def store_preference(run: Run, customer: Customer, preference: UserPreference, action: consent.Action) -> None:
    at = _time(preference.timestamp, run.now)
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
            "detail": preference.detail,
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
        run.count("duplicates")  # still confirmed below: see store_group
    if _window_open(customer, run.now, run.config.service_window_hours):
        queue_confirmation(run, customer.id, event.event_id, action, run.config.default_language)


# ---------------------------------------------------------------- helpers
def _time(timestamp: str, now: datetime) -> str:
    """A webhook's epoch-seconds timestamp as ISO (the receive time when it is missing or bad)."""
    try:
        return iso(from_epoch(timestamp))
    except (TypeError, ValueError, OverflowError, OSError):
        return iso(now)


def _later(candidate: str, stored: str | None) -> bool:
    return stored is None or candidate > stored


def _window_open(customer: Customer, now: datetime, hours: float) -> bool:
    if not customer.last_inbound_at:
        return False
    return now - parse_iso(customer.last_inbound_at) < timedelta(hours=hours)

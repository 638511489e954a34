"""Who wrote: a notification's sender resolved to one customer, and identity changes (new number, new user id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engage.core.observability import logger
from engage.core.types import is_user_id, is_wa_id
from engage.customers.profiles import Customer, clean, first_id, number_fields, resolve_customer, valid_id
from engage.inbound.bounds import MAX_NAME, clip
from engage.inbound.payloads import Value
from engage.inbound.run import Run, Unusable

if TYPE_CHECKING:
    from engage.inbound.sender_payloads import Message


@dataclass
class Sender:
    wa_id: str | None
    user_id: str | None
    name: str | None = None
    username: str | None = None
    country: str | None = None


def sender_of(value: Value, wa_id: str | None, user_id: str | None) -> Sender:
    """The sender with what its `contacts[]` entry adds (a contact that names the same person only)."""
    wa_id, user_id = clean(wa_id), clean(user_id)
    contact = value.contact_for(wa_id or "", user_id or "")
    if contact is None:
        return Sender(wa_id=wa_id, user_id=user_id)
    return Sender(
        wa_id=wa_id or clean(contact.wa_id),
        user_id=user_id or clean(contact.user_id),
        name=clip(clean(contact.profile.name), MAX_NAME),
        username=clip(clean(contact.profile.username), MAX_NAME),
        country=clip(clean(contact.profile.country_code), 8),
    )


def check_ids(**ids: str | None) -> None:
    """Raises `Unusable` for an id that is present but neither E.164 digits (`*wa_id`) nor a BSUID
    (`*user_id`): `PHONE_NUMBER`, `REDACTED`, a placeholder never becomes or moves a customer."""
    for kind, value in ids.items():
        if value and not valid_id(kind, value):
            shape = "a business-scoped user id" if kind.endswith("user_id") else "E.164 digits"
            raise Unusable(f"{kind} {value[:64]!r} is not {shape}")


def customer_for(run: Run, sender: Sender, seen: datetime | None = None) -> Customer:
    """The sender's customer, created (first seen at `seen`) when unknown; `Unusable` without a
    usable identity."""
    if not sender.wa_id and not sender.user_id:
        raise Unusable("no sender identity")
    check_ids(wa_id=sender.wa_id, user_id=sender.user_id)
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


def apply_identity_change(run: Run, message: Message) -> Customer:
    """`user_changed_number` / `user_changed_user_id`: move the customer's identities to the new ones.

    The old user id is `system.previous_user_id` (Aug 2026), else `from_user_id`, else the one the
    body names; every id must have its shape (`Unusable` otherwise: nothing is created or moved)."""
    system = message.system
    if system is None:
        raise Unusable("system message without `system`")
    store = run.ports.customers
    old_wa, old_user = clean(message.from_), clean(message.from_user_id)
    new_wa, new_user = clean(system.wa_id or system.new_wa_id), clean(system.user_id)
    previous_user = clean(system.previous_user_id)
    check_ids(wa_id=old_wa, user_id=old_user, new_wa_id=new_wa, new_user_id=new_user, previous_user_id=previous_user)
    if previous_user:
        old_user = previous_user
    elif old_user and old_user == new_user:
        old_user = None  # the message already comes from the new id
    previous = previous_identity(system.body)
    if system.type == "user_changed_user_id" and not old_user and previous and is_user_id(previous):
        old_user = previous
    if system.type == "user_changed_number" and not old_wa and previous and is_wa_id(previous):
        old_wa = previous
    if not (old_wa or old_user or new_wa or new_user):
        raise Unusable("identity change without any identity")
    customer_id = first_id(store, [("user_id", old_user), ("wa_id", old_wa), ("user_id", new_user), ("wa_id", new_wa)])
    if customer_id is None or (customer := store.get(customer_id)) is None:
        return customer_for(run, Sender(wa_id=new_wa or old_wa, user_id=new_user or old_user))
    if new_wa and new_wa != customer.wa_id:
        _move(run, customer, "wa_id", new_wa)
    if new_user and new_user != customer.user_id:
        _move(run, customer, "user_id", new_user)
    return customer


def _move(run: Run, customer: Customer, kind: str, value: str) -> None:
    old = {kind: getattr(customer, kind)}
    if run.ports.customers.move_identity(customer.id, old=old, new={kind: value}):
        setattr(customer, kind, value)
        if kind == "wa_id":
            fields = number_fields(customer, value)
            for name, field_value in fields.items():
                setattr(customer, name, field_value)
            run.ports.customers.update(customer.id, **fields)
    else:
        logger.warning("identity belongs to another customer", extra={"customer_id": customer.id, "kind": kind})
        run.keep("identity_conflict", {"customer_id": customer.id, kind: value}, key=f"{kind}#{value}")


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
            user_ids.extend([message.system.user_id or "", message.system.previous_user_id or ""])
    fetch(wa_ids=[w for w in wa_ids if w and is_wa_id(w)], user_ids=[u for u in user_ids if u and is_user_id(u)])

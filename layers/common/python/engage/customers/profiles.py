"""Customers and their identities.

A customer has one internal id. WhatsApp's phone-based `wa_id` and the business-scoped
`user_id` both resolve to it; either may be missing and neither is ever matched on "".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engage.core import phones, timezones
from engage.core.time import iso
from engage.core.types import is_user_id, is_wa_id
from engage.customers.ports import CustomerStore, IdentityStore


class Consent(BaseModel):
    marketing: bool = False
    updated_at: str | None = None
    source: str | None = None  # "import", "webhook:stop", "user_preferences", "api", ...
    import_id: str | None = None  # the CSV import that recorded it


class Customer(BaseModel):
    """The stored profile (the API's output model adds tags)."""

    id: str
    wa_id: str | None = None
    user_id: str | None = None
    name: str | None = None
    consent: Consent = Field(default_factory=Consent)
    first_seen_at: str | None = None
    last_inbound_at: str | None = None  # opens the 24-hour customer-service window
    last_interaction_at: str | None = None
    last_read_at: str | None = None
    country: str | None = None
    timezone: str | None = None  # IANA zone: told ("api", "shop") or guessed from the number ("number")
    timezone_source: str | None = None
    undeliverable: bool = False
    orders: int = 0
    total_spent: float = 0
    first_order_at: str | None = None
    last_order_at: str | None = None
    referred_by: str | None = None  # the inviter's referral code, set once by the referral flow
    referrals: int = 0  # successful referral invites, copied from the referral programme's counter
    attributes: dict[str, Any] = {}


def new_customer_id() -> str:
    return "c_" + uuid.uuid4().hex


def clean(value: str | None) -> str | None:
    """Identity values: '' and whitespace mean 'unknown'."""
    value = (value or "").strip()
    return value or None


def new_customer(*, wa_id: str | None, user_id: str | None, name: str | None, now: datetime) -> Customer:
    customer = Customer(id=new_customer_id(), wa_id=wa_id, user_id=user_id, name=name, first_seen_at=iso(now))
    if wa_id:
        for name, value in number_fields(customer, wa_id).items():
            setattr(customer, name, value)
    return customer


def number_fields(customer: Customer, wa_id: str) -> dict[str, Any]:
    """What a (new) number says about the customer: its country, and its zone unless the zone is known."""
    fields: dict[str, Any] = {"country": phones.region_of(wa_id)}
    if customer.timezone_source not in timezones.KNOWN_SOURCES:
        fields.update(timezone=phones.timezone_of(wa_id), timezone_source="number")
    return fields


def resolve_customer(
    store: CustomerStore,
    *,
    wa_id: str | None,
    user_id: str | None,
    name: str | None = None,
    now: datetime,
) -> tuple[Customer, bool]:
    """The customer these identities belong to, created when unknown. Returns (customer, created).

    Idempotent and safe under concurrency: creation is conditional on both identities being
    free, and a lost race re-reads the winner.
    """
    wa_id, user_id = clean(wa_id), clean(user_id)
    if not wa_id and not user_id:
        raise ValueError("a customer needs a wa_id or a user_id")
    for _ in range(5):
        by_user = store.find_id(user_id=user_id) if user_id else None
        by_phone = store.find_id(wa_id=wa_id) if wa_id else None
        existing_id = by_user or by_phone
        customer = store.get(existing_id) if existing_id else None
        if existing_id and customer is None:
            # Another webhook is creating this customer right now: read again.
            time.sleep(0.05)
            continue
        if customer is not None:
            _attach_missing(
                store, customer, wa_id=wa_id if not by_phone else None, user_id=user_id if not by_user else None
            )
            return customer, False
        created = new_customer(wa_id=wa_id, user_id=user_id, name=name, now=now)
        if store.create(created):
            return created, True
        # Lost a race with a concurrent creation: the next round reads the winner.
    raise RuntimeError("could not resolve customer identity after 5 attempts")


def _attach_missing(store: CustomerStore, customer: Customer, *, wa_id: str | None, user_id: str | None) -> None:
    """Attaches an identity this customer did not have yet; never steals one it has a different value for."""
    if user_id and not customer.user_id and store.attach_identity(customer.id, user_id=user_id):
        customer.user_id = user_id
    if wa_id and not customer.wa_id and store.attach_identity(customer.id, wa_id=wa_id):
        customer.wa_id = wa_id
        customer.country = customer.country or phones.region_of(wa_id)
        if not customer.timezone:
            customer.timezone, customer.timezone_source = phones.timezone_of(wa_id), "number"


def valid_id(kind: str, value: str) -> bool:
    return is_user_id(value) if kind.endswith("user_id") else is_wa_id(value)


def first_id(store: IdentityStore, candidates: Iterable[tuple[str, str | None]]) -> str | None:
    """The customer id of the first candidate identity (kind, value) that is known."""
    for kind, value in candidates:
        if value and valid_id(kind, value) and (found := store.find_id(**{kind: value})):
            return found
    return None

"""Shop events (POST /v1/events): strict models, signature check, and recording them once.

An event is stored as a history item of its customer (kind = the event's type, ordered by
`occurred_at`: the contract the tagger consumes). Idempotency is by the shop's event id: a claim of it is
written in the same transaction as the history item and the order aggregates, so a retried or
duplicated event changes nothing, and an order is counted exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from engage.core.errors import EngageError, Invalid, Unauthorized
from engage.core.phones import to_wa_id
from engage.core.time import iso
from engage.core.timezones import IanaZone
from engage.core.types import MAX_ATTRIBUTES, Attributes
from engage.customers.ports import CustomerStore
from engage.customers.profiles import Customer, resolve_customer
from engage.inbound.ports import ShopEventWriter

SIGNATURE_HEADER = "x-engage-signature"
Money = Annotated[float, Field(ge=0, le=10_000_000)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class Unprocessable(EngageError):
    """A shop event that does not match its model (the same 422 shape as body validation)."""

    status = 422
    code = "validation_error"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Identity(Strict):
    """Who: at least one of wa_id, phone (with country code) or user_id (BSUID)."""

    wa_id: str | None = Field(default=None, pattern=r"^[1-9]\d{6,14}$")
    phone: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,8}\.[A-Za-z0-9.]{1,240}$")
    name: str | None = Field(default=None, max_length=120)


class Item(Strict):
    product: Text
    category: str = Field(default="", max_length=120)
    price: Money
    quantity: int = Field(default=1, ge=1, le=10_000)


class OrderPlaced(Strict):
    order_id: Text
    items: list[Item] = Field(min_length=1, max_length=500)
    total: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    coupon: str | None = Field(default=None, max_length=64)


class CartAbandoned(Strict):
    cart_id: Text
    items: list[Item] = Field(default=[], max_length=500)
    total: Money | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    url: str | None = Field(default=None, max_length=2000)


class LinkClicked(Strict):
    url: str = Field(min_length=1, max_length=2000)
    label: str = Field(default="", max_length=200)
    product: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=120)
    campaign_id: str | None = Field(default=None, max_length=64)


class ProductViewed(Strict):
    product: Text
    category: str = Field(default="", max_length=120)
    price: Money | None = None
    url: str | None = Field(default=None, max_length=2000)


class CustomerUpserted(Strict):
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    attributes: Attributes = {}
    timezone: IanaZone | None = None  # the customer's own zone (IANA), when the shop knows it


class EventBase(Strict):
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
    occurred_at: datetime | None = None  # default: when it was received
    customer: Identity


class OrderPlacedEvent(EventBase):
    type: Literal["order_placed"]
    data: OrderPlaced


class CartAbandonedEvent(EventBase):
    type: Literal["cart_abandoned"]
    data: CartAbandoned


class LinkClickedEvent(EventBase):
    type: Literal["link_clicked"]
    data: LinkClicked


class ProductViewedEvent(EventBase):
    type: Literal["product_viewed"]
    data: ProductViewed


class CustomerUpsertedEvent(EventBase):
    type: Literal["customer_upserted"]
    data: CustomerUpserted


ShopEvent = Annotated[
    OrderPlacedEvent | CartAbandonedEvent | LinkClickedEvent | ProductViewedEvent | CustomerUpsertedEvent,
    Field(discriminator="type"),
]
SHOP_EVENT: TypeAdapter[ShopEvent] = TypeAdapter(ShopEvent)


def signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(header: str | None, raw: bytes, secrets: list[str]) -> None:
    """Raises Unauthorized unless `header` is `sha256=<hmac of the raw body>` under one of `secrets`."""
    if not header:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header (or a marketer token)", code="missing_signature")
    if not any(hmac.compare_digest(header.strip().lower(), signature(s, raw)) for s in secrets if s):
        raise Unauthorized("signature does not match the body", code="bad_signature")


# ---------------------------------------------------------------------------- recording
@dataclass
class ProfileDelta:
    """What one event changes on the profile: counters to add, fields to set, order times to append."""

    add: dict[str, float] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    order_time: str | None = None


def later(a: str | None, b: str) -> str:
    return max(a or b, b)


def profile_delta(customer: Customer, event: Any, at: str) -> tuple[ProfileDelta, dict[str, float]]:
    delta = ProfileDelta()
    if event.type != "customer_upserted":
        delta.set["last_interaction_at"] = later(customer.last_interaction_at, at)
    if isinstance(event, OrderPlacedEvent):
        order = event.data
        items = sum(i.quantity for i in order.items)
        value = round(sum(i.price * i.quantity for i in order.items), 2)
        delta.add = {
            "orders": 1,
            "total_spent": order.total,
            "coupon_orders": 1 if order.coupon else 0,
            "item_count": items,
            "item_value": value,
        }
        delta.set["first_order_at"] = min(customer.first_order_at or at, at)
        delta.set["last_order_at"] = later(customer.last_order_at, at)
        delta.order_time = at
        return delta, {"orders": 1, "item_count": items, "item_value": value}
    if isinstance(event, CustomerUpsertedEvent):
        if event.data.name:
            delta.set["name"] = event.data.name
        delta.attributes = dict(event.data.attributes)
        if event.data.email:
            delta.attributes["email"] = event.data.email
        if event.data.timezone:
            delta.set.update(timezone=event.data.timezone, timezone_source="shop")
    return delta, {}


def parse_event(raw: bytes) -> Any:
    """The event, or Unprocessable naming each wrong field (at most five)."""
    try:
        return SHOP_EVENT.validate_json(raw)
    except ValidationError as error:
        parts = []
        for e in error.errors()[:5]:
            location = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",))
            parts.append(f"{location or 'body'}: {e.get('msg', 'invalid')}")
        raise Unprocessable("; ".join(parts)) from error


def identities(identity: Identity, default_country: str | None = None) -> tuple[str | None, str | None]:
    wa_id = identity.wa_id or (to_wa_id(identity.phone, default_country) if identity.phone else None)
    if not wa_id and not identity.user_id:
        raise Invalid("customer needs a wa_id, phone or user_id", code="validation_error")
    return wa_id, identity.user_id


def refuse_too_many_attributes(
    store: CustomerStore, wa_id: str | None, user_id: str | None, data: CustomerUpserted
) -> None:
    """Before anything is written: the merged attributes of a known customer stay within the bound."""
    customer_id = (store.find_id(user_id=user_id) if user_id else None) or (
        store.find_id(wa_id=wa_id) if wa_id else None
    )
    customer = store.get(customer_id) if customer_id else None
    known = customer.attributes if customer else {}
    merged = {**known, **data.attributes, **({"email": data.email} if data.email else {})}
    if len(merged) > MAX_ATTRIBUTES:
        raise Unprocessable(f"data.attributes: a customer keeps at most {MAX_ATTRIBUTES} attributes")


def record_shop_event(
    store: CustomerStore, writer: ShopEventWriter, event: Any, now: datetime, *, default_country: str | None = None
) -> dict[str, Any]:
    """Stores the event once in the customer's history; returns what happened.

    `default_country` is where a phone number in national form is read (None: refused)."""
    wa_id, user_id = identities(event.customer, default_country)
    if isinstance(event, CustomerUpsertedEvent):
        refuse_too_many_attributes(store, wa_id, user_id, event.data)
    occurred = event.occurred_at or now
    at = iso(occurred)
    customer, created = resolve_customer(store, wa_id=wa_id, user_id=user_id, name=event.customer.name, now=occurred)
    item = {
        "type": "event",
        "kind": event.type,
        "event_id": event.id,
        "customer_id": customer.id,
        "occurred_at": at,
        "data": event.data.model_dump(mode="json", exclude_none=True),
        "source": "shop",
    }
    delta, shop_add = profile_delta(customer, event, at)
    fresh = writer.record(item, delta, shop_add)
    return {
        "id": event.id,
        "type": event.type,
        "customer_id": customer.id,
        "duplicate": not fresh,
        "new_customer": created,
    }

"""/v1/customers: read, create or update, consent and erase a customer by wa_id, user_id or internal id."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import phonenumbers
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from engage import wiring
from engage.audience.search import Query, lifecycle_of, search
from engage.audience.timeline import timeline
from engage.core.errors import Invalid, NotFound
from engage.core.phones import PhoneRefused, to_wa_id
from engage.core.time import iso, utcnow
from engage.core.timezones import IanaZone
from engage.core.types import MAX_ATTRIBUTES, Attributes, UserId
from engage.customers.ports import CustomerStore
from engage.customers.profiles import Customer, clean, resolve_customer
from engage.http.auth import Admin, Marketer
from engage.http.cursors import seal, unseal
from engage.tagging.catalog import normalise_tag
from engage.tagging.service import customer_tags

router = APIGatewayHttpRouter()


PHONE_CHARACTERS = frozenset("+0123456789 -().")


def phone_ref(ref: str) -> str | None:
    """The wa_id a reference names when it is written as a phone number ('+49 151 …', '4915…')."""
    if not ref or not set(ref) <= PHONE_CHARACTERS or not any(c.isdigit() for c in ref):
        return None
    if ref.isdigit() and not ref.startswith("0"):
        return ref  # the wa_id form, looked up as it is
    try:
        return to_wa_id(ref, wiring.customers.default_country())
    except PhoneRefused as refused:
        if refused.code == "phone_needs_country":
            raise
        return ref if ref.isdigit() else None  # not a valid number: nobody has it


def find_customer(store: CustomerStore, ref: str) -> Customer:
    """`ref` is a phone number or wa_id ('+49 151 2345 6789', '%2B49…', '4915…'), a user_id (BSUID)
    or the internal id (c_...)."""
    ref = clean(unquote(ref)) or ""
    customer_id = None
    if ref.startswith("c_"):
        customer_id = ref
    elif set(ref) <= PHONE_CHARACTERS:
        wa_id = phone_ref(ref)
        customer_id = store.find_id(wa_id=wa_id) if wa_id else None
    elif ref:
        customer_id = store.find_id(user_id=ref)
    customer = store.get(customer_id) if customer_id else None
    if customer is None:
        raise NotFound(f"no customer {ref!r}", code="customer_not_found")
    return customer


class CustomerOut(Customer):
    """A customer as the API shows it: the stored profile, the tags held now, RFM scores and lifecycle."""

    tags: list[dict[str, Any]]
    rfm: dict[str, Any] | None = None  # {r, f, m (1-5), score, group}: the nightly pass's last scoring
    lifecycle: dict[str, Any] = Field(default={})  # stage, activity, frequency, value, rfm_group


class CustomersOut(BaseModel):
    customers: list[dict[str, Any]]
    cursor: str | None


class HistoryOut(BaseModel):
    customer_id: str
    entries: list[dict[str, Any]]
    cursor: str | None


class ErasedOut(BaseModel):
    erased: str


def _query(name: str) -> str | None:
    return (router.current_event.query_string_parameters or {}).get(name)


def _limit(default: int, most: int) -> int:
    raw = _query("limit") or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise Invalid(f"limit must be a whole number from 1 to {most}", code="bad_query")
    return int(raw)


def _country_code() -> int | None:
    country = wiring.customers.default_country()
    return phonenumbers.country_code_for_region(country) or None if country else None


@router.get("/v1/customers")
def list_customers(caller: Marketer) -> CustomersOut:
    """Search by phone or name prefix (`q`), tag, saved segment and consent; paged with `cursor`."""
    consent = _query("consent")
    if consent not in (None, "true", "false"):
        raise Invalid("consent must be true or false", code="bad_query")
    q = unquote(_query("q") or "").strip() or None
    if q is not None and len(q) > 100:
        raise Invalid("q is at most 100 characters", code="bad_query")
    tag = normalise_tag(unquote(_query("tag") or "")) if _query("tag") else None
    query = Query(
        q=q,
        tag=tag,
        segment_id=_query("segment_id") or None,
        consent=None if consent is None else consent == "true",
        limit=_limit(50, 200),
    )
    scope = query.scope()
    found, position = search(
        query,
        wiring.audience.search_ports(),
        after=unseal(_query("cursor"), scope),
        now=utcnow(),
        country_code=_country_code(),
    )
    return CustomersOut(customers=found, cursor=seal(position, scope))


@router.get("/v1/customers/<ref>/history")
def customer_history(ref: str, caller: Marketer) -> HistoryOut:
    """The customer's timeline, newest first: messages in and out, shop events, tag changes, sends."""
    customer = find_customer(wiring.customers.repository(), ref)
    scope = f"customers/history|{customer.id}"
    entries, position = timeline(
        wiring.audience.history(), customer.id, limit=_limit(50, 200), after=unseal(_query("cursor"), scope)
    )
    return HistoryOut(customer_id=customer.id, entries=entries, cursor=seal(position, scope))


@router.get("/v1/customers/<ref>")
def get_customer(ref: str, caller: Marketer) -> CustomerOut:
    customer = find_customer(wiring.customers.repository(), ref)
    tags = customer_tags(wiring.tagging.ports(), customer.id, utcnow())
    profile = wiring.audience.directory().profiles([customer.id]).get(customer.id)
    return CustomerOut(
        **customer.model_dump(),
        tags=tags,
        rfm=profile.rfm if profile else None,
        lifecycle=lifecycle_of(str(t.get("name")) for t in tags),
    )


class CustomerIn(BaseModel):
    """Create or update a customer by phone (E.164 with country code) and/or business-scoped user id."""

    # Strict: `"marketing_consent": "yes"` (or "true") is refused, never read as consent.
    model_config = ConfigDict(extra="forbid", strict=True)

    phone: str | None = Field(default=None, max_length=32)
    user_id: UserId | None = None
    name: str | None = Field(default=None, max_length=200)
    marketing_consent: StrictBool | None = None
    attributes: Attributes = {}
    timezone: IanaZone | None = Field(default=None, description="The customer's own IANA zone, e.g. Europe/Moscow")


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    marketing: StrictBool
    source: str = Field(default="api", min_length=1, max_length=60)


def consent_fields(marketing: bool, source: str, now_iso: str) -> dict:
    return {"consent": {"marketing": marketing, "updated_at": now_iso, "source": source}}


class Unprocessable(Invalid):
    status = 422


def find_existing(store: CustomerStore, *, wa_id: str | None, user_id: str | None) -> Customer | None:
    customer_id = (store.find_id(user_id=user_id) if user_id else None) or (
        store.find_id(wa_id=wa_id) if wa_id else None
    )
    return store.get(customer_id) if customer_id else None


@router.post("/v1/customers")
def upsert_customer(body: CustomerIn, caller: Marketer) -> Response[dict]:
    if not body.phone and not body.user_id:
        raise Invalid("give a phone number or a user_id", code="missing_identity")
    now = utcnow()
    wa_id = to_wa_id(body.phone, wiring.customers.default_country()) if body.phone else None
    store = wiring.customers.repository()
    existing = find_existing(store, wa_id=wa_id, user_id=body.user_id)
    if existing is not None and len({**existing.attributes, **body.attributes}) > MAX_ATTRIBUTES:
        raise Unprocessable(
            f"a customer keeps at most {MAX_ATTRIBUTES} attributes; this one would have "
            f"{len({**existing.attributes, **body.attributes})}",
            code="too_many_attributes",
        )
    customer, created = resolve_customer(store, wa_id=wa_id, user_id=body.user_id, name=body.name, now=now)
    fields: dict = {}
    if body.name:
        fields["name"] = body.name
    if body.attributes:
        fields["attributes"] = {**customer.attributes, **body.attributes}
    if body.timezone:
        fields.update(timezone=body.timezone, timezone_source="api")
    if body.marketing_consent is not None:
        fields.update(consent_fields(body.marketing_consent, f"api:{caller}", iso(now)))
    if fields:
        store.update(customer.id, **fields)
    saved = store.get(customer.id)
    return Response(201 if created else 200, content_types.APPLICATION_JSON, body=saved.model_dump() if saved else {})


@router.put("/v1/customers/<ref>/consent")
def set_consent(ref: str, body: ConsentIn, caller: Marketer) -> Customer | dict[str, Any]:
    """Records marketing consent given or withdrawn outside WhatsApp (a form, a call, the shop)."""
    store = wiring.customers.repository()
    customer = find_customer(store, ref)
    store.update(customer.id, **consent_fields(body.marketing, f"{body.source}:{caller}", iso(utcnow())))
    saved = store.get(customer.id)
    return saved if saved else {}  # {} only when erased in between


@router.delete("/v1/customers/<ref>")
def erase_customer(ref: str, caller: Admin) -> ErasedOut:
    """GDPR erasure: the profile, both identities, tags, history and sends. Admin only."""
    store = wiring.customers.repository()
    customer = find_customer(store, ref)
    store.delete(customer)
    return ErasedOut(erased=customer.id)

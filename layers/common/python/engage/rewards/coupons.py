"""Coupon pools and their codes: the models, the rules (pure functions of `now`) and the use cases.

A pool names a prefix, a discount text for messages, a validity (hours from issue, or a fixed end,
whichever comes first when both are given), an optional first-N-redeemers limit, and whether a code
may be redeemed by anyone or only by the customer it was issued to. Codes are generated unguessable
(`codes.py`) or imported from the shop. Issuing is idempotent per (pool, customer, reason), or per
(pool, customer) when the pool gives one code per customer; redemption happens once, from the
`order_placed` event that carries the code. Expiry is a state the nightly job writes, and every read
answers with the state as of `now`, so a code is never valid past its end while it waits for the job.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.time import iso, parse_iso
from engage.delivery.ports import CouponIssuer
from engage.rewards import codes as codebook
from engage.rewards.ports import CouponStore

PoolStatus = Literal["open", "closed"]
CodeState = Literal["available", "issued", "redeemed", "expired"]
POOL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ISSUE_ATTEMPTS = 6  # a collision of two random 8-character codes is ~1e-12; taken imported codes retry


class PoolIn(BaseModel):
    """POST /v1/coupons/pools."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=120)
    prefix: str = Field(default="", pattern=r"^[A-Z0-9]{0,12}$", description="Upper-case letters and digits.")
    discount: str = Field(min_length=1, max_length=120, description='Text for messages, e.g. "15% off".')
    valid_hours: int | None = Field(default=None, ge=1, le=24 * 366, description="Validity from issue.")
    valid_until: str | None = Field(default=None, description="A fixed end (ISO 8601 with zone).")
    first_n: int | None = Field(default=None, ge=1, le=10_000_000, description="Only the first N redeem.")
    any_customer: bool = Field(default=False, description="Any customer may redeem a code, not only its holder.")
    one_per_customer: bool = Field(default=True, description="One code per customer, whatever the reason.")
    source: Literal["generated", "imported"] = "generated"

    @model_validator(mode="after")
    def _validity(self) -> PoolIn:
        if self.valid_hours is None and self.valid_until is None:
            raise ValueError("give `valid_hours` (validity from issue) or `valid_until` (a fixed end), or both")
        if self.valid_until is not None:
            self.valid_until = iso(_moment(self.valid_until))
        return self


class PoolChange(BaseModel):
    """PATCH /v1/coupons/pools/{id}: rename, reword, move the end, change first-N, or close."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, min_length=1, max_length=120)
    discount: str | None = Field(default=None, min_length=1, max_length=120)
    valid_until: str | None = None
    first_n: int | None = Field(default=None, ge=1, le=10_000_000)
    status: PoolStatus | None = Field(default=None, description="`closed` stops issuing; issued codes stay valid.")

    @model_validator(mode="after")
    def _moment(self) -> PoolChange:
        if self.valid_until is not None:
            self.valid_until = iso(_moment(self.valid_until))
        return self


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"`valid_until` is not an ISO 8601 time: {text[:40]!r}") from error
    if moment.tzinfo is None:
        raise ValueError("`valid_until` needs a zone (e.g. 2026-12-24T23:59:59Z)")
    return moment.astimezone(UTC)


class Pool(PoolIn):
    """A stored pool with its counters."""

    model_config = ConfigDict(extra="ignore", strict=False)

    id: str
    status: PoolStatus = "open"
    created_at: str
    issued: int = 0
    redeemed: int = 0
    expired: int = 0
    revenue: float = 0
    imported: int = 0

    def expiry_for(self, issued_at: datetime) -> datetime:
        ends = [parse_iso(self.valid_until)] if self.valid_until else []
        if self.valid_hours is not None:
            ends.append(issued_at + timedelta(hours=self.valid_hours))
        return min(ends)

    def issuing(self, now: datetime) -> str | None:
        """Why no code can be issued from this pool now (None: it can)."""
        if self.status != "open":
            return "pool_closed"
        if self.valid_until and now >= parse_iso(self.valid_until):
            return "pool_ended"
        if self.first_n is not None and self.redeemed >= self.first_n:
            return "first_n_reached"
        return None


class Coupon(BaseModel):
    """One code: who holds it, until when, and whether (and by which order) it was redeemed."""

    model_config = ConfigDict(extra="ignore")

    code: str
    pool_id: str
    state: CodeState
    customer_id: str | None = None
    reason: str | None = None
    issued_at: str | None = None
    expires_at: str | None = None
    redeemed_at: str | None = None
    redeemed_by: str | None = None
    order_id: str | None = None
    order_total: float | None = None
    event_id: str | None = None

    def state_at(self, now: datetime) -> CodeState:
        """The state as of `now`: an issued code past its end is expired, whether or not the job ran."""
        if self.state == "issued" and self.expires_at and now >= parse_iso(self.expires_at):
            return "expired"
        return self.state


@dataclass(frozen=True)
class Grant:
    """One code going to one customer (what the store writes atomically)."""

    pool_id: str
    claim: str
    code: str
    customer_id: str
    reason: str
    issued_at: str
    expires_at: str


@dataclass(frozen=True)
class Redemption:
    code: str
    pool_id: str
    customer_id: str
    order_id: str
    event_id: str
    total: float
    at: str


@dataclass(frozen=True)
class Issued:
    code: str | None
    reason: str = ""  # why there is no code: pool_not_found, pool_closed, pool_ended, first_n_reached, exhausted


def claim_key(pool: Pool, customer_id: str, reason: str) -> str:
    """What makes an issue idempotent: the customer, plus the reason unless the pool gives one code each."""
    return customer_id if pool.one_per_customer else f"{customer_id}#{reason}"


def redemption_refusal(coupon: Coupon, pool: Pool | None, customer_id: str, at: datetime) -> str | None:
    """Why this order may not redeem the code (None: it may, subject to first-N, checked atomically)."""
    state = coupon.state_at(at)
    if state == "available":
        return "not_issued"
    if state == "redeemed":
        return "already_redeemed"
    if state == "expired":
        return "expired"
    if pool is None:
        return "pool_not_found"
    if not pool.any_customer and coupon.customer_id != customer_id:
        return "other_customer"
    if pool.first_n is not None and pool.redeemed >= pool.first_n:
        return "first_n_reached"
    return None


# ---------------------------------------------------------------------------- use cases
def create_pool(store: CouponStore, given: PoolIn, pool_id: str, now: datetime) -> Pool:
    pool = Pool(**given.model_dump(), id=pool_id, created_at=iso(now))
    store.put_pool(pool)
    return pool


def get_pool(store: CouponStore, pool_id: str) -> Pool:
    pool = store.pool(pool_id) if POOL_ID.match(pool_id) else None
    if pool is None:
        raise NotFound(f"no coupon pool {pool_id!r}", code="pool_not_found")
    return pool


def change_pool(store: CouponStore, pool_id: str, change: PoolChange) -> Pool:
    pool = get_pool(store, pool_id)
    fields = change.model_dump(exclude_unset=True, exclude_none=True)
    if not fields:
        raise Invalid("nothing to change: give name, discount, valid_until, first_n or status", code="empty_change")
    merged = pool.model_copy(update=fields)
    if merged.valid_hours is None and merged.valid_until is None:
        raise Invalid("a pool needs a validity", code="invalid_validity")
    updated = store.update_pool(pool_id, fields)
    if updated is None:
        raise NotFound(f"no coupon pool {pool_id!r}", code="pool_not_found")
    return updated


def import_codes(store: CouponStore, pool_id: str, text: str) -> dict[str, Any]:
    """Adds the shop's codes (CSV, first column) to an imported pool; codes already known are skipped."""
    pool = get_pool(store, pool_id)
    if pool.source != "imported":
        raise Conflict("this pool generates its codes; create a pool with source `imported`", code="not_imported")
    found, rejected = codebook.parse_codes_csv(text)
    if not found:
        raise Invalid("no codes in the CSV (one code a row, in the first column)", code="no_codes")
    if len(found) > codebook.MAX_IMPORT_CODES:
        raise Invalid(f"at most {codebook.MAX_IMPORT_CODES} codes an upload", code="too_many_codes")
    added = store.add_codes(pool_id, found)
    return {"pool_id": pool_id, "added": added, "known": len(found) - added, "rejected": rejected[:20]}


def issue(store: CouponStore, pool_id: str, customer_id: str, reason: str, now: datetime) -> Issued:
    """A code of the pool for the customer: the one already issued for this (customer[, reason]), or a
    new one. Two issuers racing for the same claim get the same code; codes never repeat."""
    pool = store.pool(pool_id)
    if pool is None:
        return Issued(None, "pool_not_found")
    claim = claim_key(pool, customer_id, reason)
    held = store.claimed(pool_id, claim)
    if held:
        return Issued(held)
    refusal = pool.issuing(now)
    if refusal:
        return Issued(None, refusal)
    expires = pool.expiry_for(now)
    if expires <= now:
        return Issued(None, "pool_ended")
    for _ in range(ISSUE_ATTEMPTS):
        if pool.source == "imported":
            candidates = store.available(pool_id)
            if not candidates:
                return Issued(None, "exhausted")
            code = secrets.choice(candidates)  # racing issuers rarely pick the same one
        else:
            code = codebook.new_coupon_code(pool.prefix)
        grant = Grant(pool_id, claim, code, customer_id, reason, iso(now), iso(expires))
        result = store.issue(grant, imported=pool.source == "imported")
        if result == "issued":
            return Issued(code)
        if result == "claimed":  # another issuer won the same claim: its code is ours
            return Issued(store.claimed(pool_id, claim))
        if result == "closed":
            return Issued(None, "pool_closed")
    return Issued(None, "busy")


def redeem_order(store: CouponStore, item: dict[str, Any]) -> str | None:
    """Redeems the code an `order_placed` history item carries. Returns what happened (None: no code),
    or the refusal; the refusal is written to the customer's history. Replays change nothing."""
    if item.get("kind") != "order_placed":
        return None
    data = item.get("data") or {}
    given = data.get("coupon")
    if not given:
        return None
    code = codebook.normalise(str(given))
    coupon = store.coupon(code)
    if coupon is None:
        return "unknown_code"  # a code of the shop's own (a static code, a gift card): not ours to count
    event_id = str(item.get("event_id") or "")
    if coupon.state == "redeemed" and coupon.event_id == event_id:
        return "duplicate"
    at = parse_iso(str(item["occurred_at"]))
    redemption = Redemption(
        code=code,
        pool_id=coupon.pool_id,
        customer_id=str(item["customer_id"]),
        order_id=str(data.get("order_id") or event_id),
        event_id=event_id,
        total=float(data.get("total") or 0),
        at=iso(at),
    )
    pool = store.pool(coupon.pool_id)
    refusal = redemption_refusal(coupon, pool, redemption.customer_id, at)
    if refusal is None and pool is not None:
        result = store.redeem(redemption, any_customer=pool.any_customer, first_n=pool.first_n)
        if result == "redeemed":
            return "redeemed"
        current = store.coupon(code)
        if current is not None and current.state == "redeemed" and current.event_id == event_id:
            return "duplicate"
        refusal = result if result == "first_n_reached" else "already_redeemed"
    store.record_refusal(redemption, refusal or "pool_not_found")
    return refusal


def check_code(store: CouponStore, given: str, now: datetime) -> dict[str, Any]:
    """What the shop's checkout needs to know about a code, as of `now`."""
    code = codebook.normalise(given)
    coupon = store.coupon(code) if codebook.is_code(code) else None
    if coupon is None:
        raise NotFound("no such coupon code", code="coupon_not_found")
    pool = store.pool(coupon.pool_id)
    state = coupon.state_at(now)
    reason: str | None = None if state == "issued" else state
    if reason is None and pool is not None and pool.first_n is not None and pool.redeemed >= pool.first_n:
        reason = "first_n_reached"
    return {
        "code": code,
        "pool_id": coupon.pool_id,
        "discount": pool.discount if pool else None,
        "state": state,
        "valid": reason is None,
        "reason": reason,
        "customer_id": None if pool and pool.any_customer else coupon.customer_id,
        "any_customer": bool(pool and pool.any_customer),
        "expires_at": coupon.expires_at,
        "redeemed_at": coupon.redeemed_at,
    }


def expire_due(store: CouponStore, now: datetime, *, limit: int = 5_000) -> dict[str, int]:
    """Marks issued codes past their end as expired (a state: the code stays, with its history)."""
    expired = 0
    for code, pool_id in store.due_expiries(now, limit):
        if store.expire(code, pool_id, iso(now)):
            expired += 1
    return {"expired": expired}


def pool_view(pool: Pool) -> dict[str, Any]:
    view = pool.model_dump()
    view["stats"] = {
        "issued": pool.issued,
        "redeemed": pool.redeemed,
        "expired": pool.expired,
        "revenue": round(pool.revenue, 2),
        "redemption_rate": round(pool.redeemed / pool.issued, 4) if pool.issued else 0.0,
        "first_n_left": max(0, pool.first_n - pool.redeemed) if pool.first_n is not None else None,
    }
    return view


class PoolIssuer:
    """The sender's `CouponIssuer` (and the journeys' and groups'): `issue` with the code or None;
    with a `fallback`, its code when the pool gives none (no such pool, closed, exhausted)."""

    def __init__(self, store: CouponStore, fallback: CouponIssuer | None = None):
        self.store = store
        self.fallback = fallback

    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        code = issue(self.store, pool_id, customer_id, reason, now).code
        if code is None and self.fallback is not None:
            return self.fallback.issue(pool_id, customer_id, reason, now)
        return code

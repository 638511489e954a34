"""Referrals: a code per customer, a wa.me link that pre-fills `ref CODE`, invitations the webhook
records turned into attributions, and rewards when the invitee's first order reaches the threshold.

The flow (docs/rewards.md): the invitee's first message carries `ref CODE`; the webhook records it
and puts `referral_code` on the message's history item. `attribute` (a tagger processor) finds the
code's owner and writes the invitee's attribution once: `pending`, or `rejected` (self-referral by
customer, phone or user id; an invitee who had written or bought before), or `held` (the code is
locked: more than `lock_per_hour` invitations in one hour). `reward_on_order` (a tagger processor on
`order_placed`) takes the invitee's first order: below the threshold settles the attribution as
`below_threshold`; at or above it, one transaction makes it `qualified` and counts the inviter's
successful (and, under the cap, rewarded) invites. Then codes are issued (idempotent per invitee) and
the reward and welcome messages are queued for the sender, under the sending rules, with stable send
keys; a crash before `notified_at` is written is repeated on the stream's retry, changing nothing
that was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.ports import Queue
from engage.core.time import iso, parse_iso
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.rewards import codes as codebook
from engage.rewards import coupons
from engage.rewards.config import ReferralConfig
from engage.rewards.ports import CouponStore, CustomerLookup, ReferralProfiles, ReferralStore, TagAdder

AttributionState = Literal["pending", "held", "rejected", "below_threshold", "qualified"]
REFERRED_TAG = "referral:referred"
SOURCE = "referral"  # the campaign slot of reward sends: metrics count them under this source
QUALIFY_ATTEMPTS = 8
CODE_ATTEMPTS = 5


class ReferralCode(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str
    customer_id: str
    created_at: str
    locked: bool = False
    locked_at: str | None = None
    lock_reason: str | None = None
    attributed: int = 0
    successful: int = 0
    rewarded: int = 0


class Attribution(BaseModel):
    model_config = ConfigDict(extra="ignore")

    invitee_id: str
    inviter_id: str
    code: str
    state: AttributionState
    reason: str | None = None
    invited_at: str
    event_id: str
    order_id: str | None = None
    order_total: float | None = None
    qualified_at: str | None = None
    rank: int | None = None  # the inviter's successful invites, this one included
    rewarded: bool = False
    notified_at: str | None = None
    outcome: dict[str, Any] | None = None


@dataclass
class ReferralPorts:
    referrals: ReferralStore
    coupons: CouponStore
    customers: CustomerLookup
    queue: Queue
    tags: TagAdder
    profiles: ReferralProfiles


# ---------------------------------------------------------------------------- rules
def self_referral(inviter: Any, invitee: Any) -> str | None:
    """`self_referral:<how>` when the invitee is the inviter: the same customer, phone or user id."""
    if inviter.id == invitee.id:
        return "self_referral:customer"
    if inviter.wa_id and inviter.wa_id == invitee.wa_id:
        return "self_referral:phone"
    if inviter.user_id and inviter.user_id == invitee.user_id:
        return "self_referral:user_id"
    return None


def returning_customer(invitee: Any, invited_at: str) -> str | None:
    """An invitee who had bought before the invitation is not a new customer. (One who had written
    before never gets here: the webhook records `ref CODE` only from a customer's first message.)"""
    if invitee.first_order_at and parse_iso(invitee.first_order_at) < parse_iso(invited_at):
        return "returning_customer:bought"
    return None


def reaches(total: float, threshold: float) -> bool:
    """In cents, so 198.99 never rounds up to 199."""
    return round(total * 100) >= round(threshold * 100)


def hour_of(at: str) -> str:
    return iso(parse_iso(at))[:13]


def wa_link(business_number: str, code: str) -> str:
    return f"https://wa.me/{business_number}?text={quote(f'ref {code}')}"


# ---------------------------------------------------------------------------- the customer's code
def ensure_code(store: ReferralStore, customer_id: str, now: datetime) -> tuple[ReferralCode, bool]:
    """The customer's code, made on first ask (idempotent). Returns (code, created)."""
    found = store.code_of(customer_id)
    if found is not None:
        return found, False
    for _ in range(CODE_ATTEMPTS):
        candidate = ReferralCode(code=codebook.new_referral_code(), customer_id=customer_id, created_at=iso(now))
        if store.create_code(candidate):
            return candidate, True
        found = store.code_of(customer_id)
        if found is not None:  # a concurrent request made it
            return found, False
    raise Conflict("could not make a unique referral code; try again", code="code_busy")


def referral_view(code: ReferralCode, config: ReferralConfig, qr_svg: str | None) -> dict[str, Any]:
    link = wa_link(config.business_number, code.code) if config.business_number else None
    tier = config.tier_for(code.successful)
    return {
        "customer_id": code.customer_id,
        "code": code.code,
        "link": link,
        "text": f"ref {code.code}",
        "qr_svg": qr_svg if link else None,
        "locked": code.locked,
        "attributed": code.attributed,
        "successful": code.successful,
        "rewarded": code.rewarded,
        "tier": tier.tag if tier else None,
        "note": None if link else "set the business number (PUT /v1/referrals/settings) to get the wa.me link",
    }


# ---------------------------------------------------------------------------- attribution
def concerns(item: dict[str, Any]) -> bool:
    """A history item the referral flow reacts to: a first message with `ref CODE`, or an order."""
    kind = item.get("kind")
    return kind == "order_placed" or (kind == "message" and bool((item.get("data") or {}).get("referral_code")))


def attribute(ports: ReferralPorts, item: dict[str, Any], config: ReferralConfig) -> str | None:
    """Turns a first message carrying `ref CODE` into the invitee's attribution (once)."""
    data = item.get("data") or {}
    if item.get("kind") != "message" or not data.get("referral_code"):
        return None
    code = codebook.normalise(str(data["referral_code"]))
    if not codebook.is_code(code):
        return "unknown_code"
    invitee_id = str(item["customer_id"])
    existing = ports.referrals.attribution(invitee_id)
    if existing is not None:
        if existing.state != "rejected":  # a crash may have come between the attribution and the profile
            ports.profiles.mark_referred(invitee_id, existing.code)
        return "duplicate"
    owner = ports.referrals.owner(code)
    if owner is None:
        return "unknown_code"
    at = str(item["occurred_at"])
    invitee = ports.customers.get(invitee_id)
    inviter = ports.customers.get(owner.customer_id)
    if invitee is None:
        return "invitee_not_found"
    reason = (self_referral(inviter, invitee) if inviter is not None else None) or returning_customer(invitee, at)
    state: AttributionState = "rejected" if reason else "pending"
    if state == "pending":
        count = ports.referrals.note_invitation(code, hour_of(at), invitee_id)
        if count > config.lock_per_hour and not owner.locked:
            ports.referrals.lock(code, at=at, reason=f"{count} invitations in the hour {hour_of(at)}")
            owner.locked = True
        if owner.locked:
            state, reason = "held", "code_locked"
    attribution = Attribution(
        invitee_id=invitee_id,
        inviter_id=owner.customer_id,
        code=code,
        state=state,
        reason=reason,
        invited_at=at,
        event_id=str(item.get("event_id") or ""),
    )
    if not ports.referrals.attribute(attribution):
        return "duplicate"
    if state != "rejected":  # segmentable: the tag names the programme, `referred_by` the inviter's code
        ports.tags.add(invitee_id, REFERRED_TAG, reason=f"invited with {code}", event_id=attribution.event_id, at=at)
        ports.profiles.mark_referred(invitee_id, code)
    return state


def unlock(store: ReferralStore, code: str, by: str, now: datetime) -> dict[str, Any]:
    """An admin's review: the code takes invitations again, and the ones held while it was locked
    become pending (they qualify on their first order like any other)."""
    code = codebook.normalise(code)
    owner = store.owner(code) if codebook.is_code(code) else None
    if owner is None:
        raise NotFound("no such referral code", code="referral_not_found")
    if not owner.locked:
        raise Conflict("the code is not locked", code="not_locked")
    store.unlock(code, by=by, at=iso(now))
    released = 0
    for held in store.invited_by(owner.customer_id):
        if held.state == "held" and held.code == code:
            released += store.set_state(
                held.invitee_id, state="pending", expected="held", reason="unlocked", at=iso(now)
            )
    return {"code": code, "locked": False, "released": released, "unlocked_by": by, "unlocked_at": iso(now)}


# ---------------------------------------------------------------------------- rewards
def reward_on_order(ports: ReferralPorts, item: dict[str, Any], config: ReferralConfig, now: datetime) -> str | None:
    """The invitee's first order: settles the attribution and rewards both sides (see module doc)."""
    if item.get("kind") != "order_placed":
        return None
    invitee_id = str(item["customer_id"])
    attribution = ports.referrals.attribution(invitee_id)
    if attribution is None:
        return None
    if attribution.state == "pending":
        outcome = qualify(ports, attribution, item, config)
        if outcome != "qualified":
            return outcome
        attribution = ports.referrals.attribution(invitee_id) or attribution
    if attribution.state != "qualified" or attribution.notified_at:
        return None
    notify(ports, attribution, config, now)
    return "rewarded" if attribution.rewarded else "qualified"


def qualify(ports: ReferralPorts, attribution: Attribution, item: dict[str, Any], config: ReferralConfig) -> str:
    data = item.get("data") or {}
    at = str(item["occurred_at"])
    invitee = ports.customers.get(attribution.invitee_id)
    first_order_at = getattr(invitee, "first_order_at", None)
    if first_order_at and parse_iso(first_order_at) < parse_iso(at):
        return "not_first_order"  # an earlier order settled it (or is being settled by its own record)
    total = float(data.get("total") or 0)
    order_id = str(data.get("order_id") or item.get("event_id") or "")
    if not reaches(total, config.threshold):
        ports.referrals.set_state(
            attribution.invitee_id,
            state="below_threshold",
            expected="pending",
            reason=f"first order {total:.2f} below {config.threshold:.2f}",
            at=at,
        )
        return "below_threshold"
    for _ in range(QUALIFY_ATTEMPTS):
        inviter = ports.referrals.code_of(attribution.inviter_id)
        seen = inviter.successful if inviter else 0
        rewarded = (inviter.rewarded if inviter else 0) < config.max_rewarded
        if ports.referrals.qualify(
            attribution, seen_successful=seen, rewarded=rewarded, order_id=order_id, total=total, at=at
        ):
            return "qualified"
        current = ports.referrals.attribution(attribution.invitee_id)
        if current is None or current.state != "pending":
            return "qualified" if current is not None and current.state == "qualified" else "settled"
    raise Conflict("the inviter's counts kept changing; the stream retries this order", code="busy")


def notify(ports: ReferralPorts, attribution: Attribution, config: ReferralConfig, now: datetime) -> None:
    """Tier tags, codes and messages for a qualified invite; every step is idempotent, so a retry after
    a crash repeats nothing that was done."""
    rank = attribution.rank or 0
    inviter = ports.referrals.code_of(attribution.inviter_id)
    # the programme's own counter, never an increment: a replay or a late retry sets the same number
    ports.profiles.set_referrals(attribution.inviter_id, max(rank, inviter.successful if inviter else 0))
    outcome: dict[str, Any] = {}
    for tier in config.tiers:
        if tier.at == rank:
            ports.tags.add(
                attribution.inviter_id,
                tier.tag,
                reason=f"{rank} successful referral(s)",
                event_id=f"referral:{attribution.invitee_id}",
                at=attribution.qualified_at or iso(now),
            )
            outcome["tier"] = tier.tag
    jobs: list[dict[str, Any]] = []
    if attribution.rewarded:
        reached = config.tier_for(rank)
        pool_id = reached.pool_id if reached else None
        outcome["reward"] = give(ports, pool_id, attribution.inviter_id, "reward", attribution, config, now, jobs)
    if config.double_sided:
        outcome["welcome"] = give(
            ports, config.welcome_pool_id, attribution.invitee_id, "welcome", attribution, config, now, jobs
        )
    if jobs:
        ports.queue.send(jobs)
    ports.referrals.mark_notified(attribution.invitee_id, at=iso(now), outcome=outcome)


def give(
    ports: ReferralPorts,
    pool_id: str | None,
    customer_id: str,
    side: Literal["reward", "welcome"],
    attribution: Attribution,
    config: ReferralConfig,
    now: datetime,
    jobs: list[dict[str, Any]],
) -> str:
    """Issues the side's code and adds its send job; returns the code, or why there is none."""
    if not pool_id:
        return "no_pool"
    issued = coupons.issue(ports.coupons, pool_id, customer_id, f"referral:{side}:{attribution.invitee_id}", now)
    if issued.code is None:
        return f"no_code:{issued.reason}"
    pool = ports.coupons.pool(pool_id)
    template = config.reward_template if side == "reward" else config.welcome_template
    job = SendJob(
        customer_id=customer_id,
        send_key=f"referral:{side}:{attribution.invitee_id}",
        campaign_id=SOURCE,
        category="marketing",
        message=TemplateMessage(
            template=template,
            language=config.template_language,
            variables={"body": [issued.code, pool.discount if pool else ""]},
        ),
        reason=f"referral:{side}",
    )
    jobs.append(job.model_dump(mode="json"))
    return issued.code


# ---------------------------------------------------------------------------- programme
def programme(store: ReferralStore, *, top: int = 10) -> dict[str, Any]:
    config = store.config()
    stats = store.programme()
    return {
        "stats": stats,
        "top_inviters": store.top_inviters(top),
        "settings": config.model_dump(),
    }


def save_settings(store: ReferralStore, given: ReferralConfig, coupons_store: CouponStore) -> ReferralConfig:
    missing = [p for p in [given.welcome_pool_id, *(t.pool_id for t in given.tiers)] if p and not coupons_store.pool(p)]
    if missing:
        raise Invalid(f"no coupon pool {missing[0]!r}", code="pool_not_found")
    store.save_config(given)
    return given


class ReferralLinks:
    """The sender's `ReferralLinks`: {{referral_code}} and {{referral_link}} of a recipient (the code
    is made on first use, idempotently)."""

    def __init__(self, store: ReferralStore):
        self.store = store

    def variables(self, customer_id: str, now: datetime) -> dict[str, str]:
        code, _ = ensure_code(self.store, customer_id, now)
        config = self.store.config()
        found = {"referral_code": code.code}
        if config.business_number:
            found["referral_link"] = wa_link(config.business_number, code.code)
        return found

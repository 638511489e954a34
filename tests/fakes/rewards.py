"""In-memory fakes of the rewards ports, with the adapters' semantics (conditional writes, all or nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from engage.core.time import iso
from engage.rewards.config import ReferralConfig
from engage.rewards.coupons import Coupon, Grant, Pool, Redemption
from engage.rewards.ports import IssueResult, RedeemResult
from engage.rewards.referrals import Attribution, ReferralCode


class FakeCoupons:
    def __init__(self) -> None:
        self.pools_: dict[str, Pool] = {}
        self.codes: dict[str, Coupon] = {}
        self.claims: dict[tuple[str, str], str] = {}
        self.avail: dict[str, list[str]] = {}
        self.refusals: list[tuple[Redemption, str]] = []
        self.history: list[tuple[str, str, str]] = []  # (customer, kind, id)

    def put_pool(self, pool: Pool) -> None:
        self.pools_.setdefault(pool.id, pool.model_copy())

    def pool(self, pool_id: str) -> Pool | None:
        found = self.pools_.get(pool_id)
        return found.model_copy() if found else None

    def pools(self) -> list[Pool]:
        return [p.model_copy() for p in self.pools_.values()]

    def update_pool(self, pool_id: str, fields: dict[str, Any]) -> Pool | None:
        if pool_id not in self.pools_:
            return None
        self.pools_[pool_id] = self.pools_[pool_id].model_copy(update=fields)
        return self.pool(pool_id)

    def claimed(self, pool_id: str, claim: str) -> str | None:
        return self.claims.get((pool_id, claim))

    def issue(self, grant: Grant, *, imported: bool) -> IssueResult:
        pool = self.pools_[grant.pool_id]
        if (grant.pool_id, grant.claim) in self.claims:
            return "claimed"
        current = self.codes.get(grant.code)
        if imported and (current is None or current.state != "available"):
            return "taken"
        if not imported and current is not None:
            return "collision"
        if pool.status != "open":
            return "closed"
        self.claims[(grant.pool_id, grant.claim)] = grant.code
        self.codes[grant.code] = Coupon(
            code=grant.code,
            pool_id=grant.pool_id,
            state="issued",
            customer_id=grant.customer_id,
            reason=grant.reason,
            issued_at=grant.issued_at,
            expires_at=grant.expires_at,
        )
        if imported:
            self.avail[grant.pool_id].remove(grant.code)
        pool.issued += 1
        self.history.append((grant.customer_id, "coupon_issued", grant.code))
        return "issued"

    def available(self, pool_id: str) -> list[str]:
        return list(self.avail.get(pool_id, []))[:25]

    def add_codes(self, pool_id: str, codes: list[str]) -> int:
        new = [c for c in codes if c not in self.codes]
        for code in new:
            self.codes[code] = Coupon(code=code, pool_id=pool_id, state="available")
            self.avail.setdefault(pool_id, []).append(code)
        self.pools_[pool_id].imported += len(new)
        return len(new)

    def coupon(self, code: str) -> Coupon | None:
        found = self.codes.get(code)
        return found.model_copy() if found else None

    def redeem(self, redemption: Redemption, *, any_customer: bool, first_n: int | None) -> RedeemResult:
        coupon, pool = self.codes[redemption.code], self.pools_[redemption.pool_id]
        ok = coupon.state == "issued" and (coupon.expires_at or "") > redemption.at
        if not any_customer and coupon.customer_id != redemption.customer_id:
            ok = False
        if not ok:
            return "changed"
        if first_n is not None and pool.redeemed >= first_n:
            return "first_n_reached"
        self.codes[redemption.code] = coupon.model_copy(
            update={
                "state": "redeemed",
                "redeemed_at": redemption.at,
                "redeemed_by": redemption.customer_id,
                "order_id": redemption.order_id,
                "order_total": redemption.total,
                "event_id": redemption.event_id,
            }
        )
        pool.redeemed += 1
        pool.revenue += redemption.total
        return "redeemed"

    def record_refusal(self, redemption: Redemption, reason: str) -> None:
        if not any(r.event_id == redemption.event_id for r, _ in self.refusals):
            self.refusals.append((redemption, reason))

    def due_expiries(self, now: datetime, limit: int) -> Iterator[tuple[str, str]]:
        due = [c for c in self.codes.values() if c.state == "issued" and (c.expires_at or "~") <= iso(now)]
        for coupon in due[:limit]:
            yield coupon.code, coupon.pool_id

    def expire(self, code: str, pool_id: str, at: str) -> bool:
        coupon = self.codes[code]
        if coupon.state != "issued" or (coupon.expires_at or "~") > at:
            return False
        self.codes[code] = coupon.model_copy(update={"state": "expired"})
        self.pools_[pool_id].expired += 1
        return True


class FakeReferrals:
    def __init__(self, config: ReferralConfig | None = None) -> None:
        self.settings = config or ReferralConfig()
        self.by_code: dict[str, ReferralCode] = {}
        self.by_customer: dict[str, ReferralCode] = {}
        self.hours: dict[tuple[str, str], set[str]] = {}
        self.log: list[tuple[str, str, str]] = []
        self.attributions: dict[str, Attribution] = {}
        self.stats: dict[str, int] = {}
        self.fail_next_qualify = 0  # simulates a concurrent qualify of the same inviter

    def config(self) -> ReferralConfig:
        return self.settings

    def save_config(self, config: ReferralConfig) -> None:
        self.settings = config

    def code_of(self, customer_id: str) -> ReferralCode | None:
        found = self.by_customer.get(customer_id)
        return found.model_copy() if found else None

    def owner(self, code: str) -> ReferralCode | None:
        found = self.by_code.get(code)
        return found.model_copy() if found else None

    def create_code(self, code: ReferralCode) -> bool:
        if code.code in self.by_code or code.customer_id in self.by_customer:
            return False
        self.by_code[code.code] = code.model_copy()
        self.by_customer[code.customer_id] = code.model_copy()
        return True

    def note_invitation(self, code: str, hour: str, invitee_id: str) -> int:
        members = self.hours.setdefault((code, hour), set())
        members.add(invitee_id)
        return len(members)

    def lock(self, code: str, *, at: str, reason: str) -> bool:
        owner = self.by_code[code]
        if owner.locked:
            return False
        owner.locked, owner.locked_at, owner.lock_reason = True, at, reason
        self.log.append((code, "lock", reason))
        return True

    def unlock(self, code: str, *, by: str, at: str) -> ReferralCode | None:
        owner = self.by_code.get(code)
        if owner is None:
            return None
        owner.locked = False
        self.log.append((code, "unlock", by))
        return owner.model_copy()

    def attribution(self, invitee_id: str) -> Attribution | None:
        found = self.attributions.get(invitee_id)
        return found.model_copy(deep=True) if found else None

    def _count(self, **counts: int) -> None:
        for name, n in counts.items():
            self.stats[name] = self.stats.get(name, 0) + n

    def attribute(self, attribution: Attribution) -> bool:
        if attribution.invitee_id in self.attributions:
            return False
        self.attributions[attribution.invitee_id] = attribution.model_copy()
        self._count(invitations=1, **{attribution.state: 1})
        if attribution.state != "rejected":
            self.by_customer[attribution.inviter_id].attributed += 1
        return True

    def invited_by(self, inviter_id: str) -> list[Attribution]:
        return [a.model_copy() for a in self.attributions.values() if a.inviter_id == inviter_id]

    def set_state(self, invitee_id: str, *, state: str, expected: str, reason: str, at: str) -> bool:
        current = self.attributions[invitee_id]
        if current.state != expected:
            return False
        self.attributions[invitee_id] = current.model_copy(update={"state": state, "reason": reason})
        self._count(**{state: 1, expected: -1})
        return True

    def qualify(
        self, attribution: Attribution, *, seen_successful: int, rewarded: bool, order_id: str, total: float, at: str
    ) -> bool:
        if self.fail_next_qualify:
            self.fail_next_qualify -= 1
            return False
        current, inviter = self.attributions[attribution.invitee_id], self.by_customer[attribution.inviter_id]
        if current.state != "pending" or inviter.successful != seen_successful:
            return False
        self.attributions[attribution.invitee_id] = current.model_copy(
            update={
                "state": "qualified",
                "order_id": order_id,
                "order_total": total,
                "qualified_at": at,
                "rank": seen_successful + 1,
                "rewarded": rewarded,
            }
        )
        inviter.successful += 1
        inviter.rewarded += int(rewarded)
        self._count(qualified=1, pending=-1, rewarded=int(rewarded))
        return True

    def mark_notified(self, invitee_id: str, *, at: str, outcome: dict[str, Any]) -> None:
        self.attributions[invitee_id] = self.attributions[invitee_id].model_copy(
            update={"notified_at": at, "outcome": outcome}
        )

    def programme(self) -> dict[str, Any]:
        return dict(self.stats)

    def top_inviters(self, limit: int) -> list[dict[str, Any]]:
        ranked = sorted(self.by_customer.values(), key=lambda c: -c.successful)
        return [{"customer_id": c.customer_id, "successful": c.successful} for c in ranked[:limit] if c.successful]


class FakeTags:
    def __init__(self) -> None:
        self.added: dict[tuple[str, str], str] = {}

    def add(self, customer_id: str, tag: str, *, reason: str, event_id: str, at: str) -> bool:
        if (customer_id, tag) in self.added:
            return False
        self.added[(customer_id, tag)] = event_id
        return True


class FakeQueue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        self.bodies.extend(bodies)


class FakeReferralProfiles:
    """The referral fields on the fake customers' profiles, with the adapter's conditions: the first
    code wins, a count only rises, a missing profile is written nothing."""

    def __init__(self, customers: Any) -> None:
        self.customers = customers

    def mark_referred(self, invitee_id: str, code: str) -> bool:
        found = self.customers.get(invitee_id)
        if found is None or found.referred_by is not None:
            return False
        self.customers.update(invitee_id, referred_by=code)
        return True

    def set_referrals(self, inviter_id: str, count: int) -> bool:
        found = self.customers.get(inviter_id)
        if found is None or found.referrals >= count:
            return False
        self.customers.update(inviter_id, referrals=count)
        return True

"""The ports the rewards capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from engage.rewards.config import ReferralConfig
    from engage.rewards.coupons import Coupon, Grant, Pool, Redemption
    from engage.rewards.referrals import Attribution, ReferralCode

IssueResult = Literal["issued", "claimed", "collision", "taken", "closed"]
RedeemResult = Literal["redeemed", "first_n_reached", "changed"]


class CouponStore(Protocol):
    def put_pool(self, pool: Pool) -> None: ...

    def pool(self, pool_id: str) -> Pool | None: ...

    def pools(self) -> list[Pool]: ...

    def update_pool(self, pool_id: str, fields: dict[str, Any]) -> Pool | None: ...

    def claimed(self, pool_id: str, claim: str) -> str | None:
        """The code already issued under this claim of the pool, if any."""
        ...

    def issue(self, grant: Grant, *, imported: bool) -> IssueResult:
        """Writes the claim, the code's holder and the pool's count at once, or nothing:
        `claimed` (someone holds the claim), `collision` (the code exists), `taken` (an imported code
        went to another issuer) or `closed` (the pool stopped issuing)."""
        ...

    def available(self, pool_id: str) -> list[str]:
        """A few imported codes not issued yet."""
        ...

    def add_codes(self, pool_id: str, codes: list[str]) -> int:
        """Adds imported codes (known ones are skipped); returns how many were new."""
        ...

    def coupon(self, code: str) -> Coupon | None: ...

    def redeem(self, redemption: Redemption, *, any_customer: bool, first_n: int | None) -> RedeemResult:
        """Marks the code redeemed by this order and counts it on the pool, at once, only if the code is
        still issued (to this customer, unless any customer may) and the pool is under first-N."""
        ...

    def record_refusal(self, redemption: Redemption, reason: str) -> None:
        """A history item of the customer: the order's code was not accepted, and why (written once)."""
        ...

    def due_expiries(self, now: datetime, limit: int) -> Iterator[tuple[str, str]]:
        """(code, pool id) of issued codes whose end has come."""
        ...

    def expire(self, code: str, pool_id: str, at: str) -> bool:
        """Issued -> expired, counted on the pool once; False when it was redeemed or expired already."""
        ...


class ReferralStore(Protocol):
    def config(self) -> ReferralConfig: ...

    def save_config(self, config: ReferralConfig) -> None: ...

    def code_of(self, customer_id: str) -> ReferralCode | None: ...

    def owner(self, code: str) -> ReferralCode | None: ...

    def create_code(self, code: ReferralCode) -> bool:
        """False (nothing written) when the customer has a code already or the code exists."""
        ...

    def note_invitation(self, code: str, hour: str, invitee_id: str) -> int:
        """Adds the invitee to the code's invitations of that hour; returns how many distinct there are."""
        ...

    def lock(self, code: str, *, at: str, reason: str) -> bool: ...

    def unlock(self, code: str, *, by: str, at: str) -> ReferralCode | None: ...

    def attribution(self, invitee_id: str) -> Attribution | None: ...

    def attribute(self, attribution: Attribution) -> bool:
        """Writes the invitee's attribution once (first code wins), with its history item."""
        ...

    def invited_by(self, inviter_id: str) -> list[Attribution]: ...

    def set_state(self, invitee_id: str, *, state: str, expected: str, reason: str, at: str) -> bool: ...

    def qualify(
        self, attribution: Attribution, *, seen_successful: int, rewarded: bool, order_id: str, total: float, at: str
    ) -> bool:
        """pending -> qualified, and the inviter's counts, at once; False when either moved meanwhile."""
        ...

    def mark_notified(self, invitee_id: str, *, at: str, outcome: dict[str, Any]) -> None: ...

    def programme(self) -> dict[str, Any]: ...

    def top_inviters(self, limit: int) -> list[dict[str, Any]]: ...


class CustomerLookup(Protocol):
    def get(self, customer_id: str) -> Any: ...


class ReferralProfiles(Protocol):
    """The referral fields of customer profiles, which segments read (`referred_by`, `referrals`)."""

    def mark_referred(self, invitee_id: str, code: str) -> bool:
        """Sets the invitee's `referred_by` to the inviter's code unless it is set (first code wins)."""
        ...

    def set_referrals(self, inviter_id: str, count: int) -> bool:
        """Sets the inviter's `referrals` to `count` unless it is at least that already (a replay of an
        older count never lowers it)."""
        ...


class TagAdder(Protocol):
    def add(self, customer_id: str, tag: str, *, reason: str, event_id: str, at: str) -> bool:
        """Adds the tag with its log entry (idempotent by event id)."""
        ...

"""Builders of the rewards capability: coupon and referral repositories, the tier tags, its ports."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.rewards_coupons import CouponRepository
from engage.adapters.dynamo.rewards_referrals import ReferralProfiles, ReferralRepository, ReferralTags
from engage.rewards.referrals import ReferralPorts
from engage.wiring import aws, customers, delivery


@lru_cache
def coupons() -> CouponRepository:
    return CouponRepository(aws.table())


@lru_cache
def referrals() -> ReferralRepository:
    return ReferralRepository(aws.table())


@lru_cache
def ports() -> ReferralPorts:
    """What the referral flow needs; reward messages go on the send queue (the sender's rules apply)."""
    return ReferralPorts(
        referrals=referrals(),
        coupons=coupons(),
        customers=customers.repository(),
        queue=delivery.send_queue(),
        tags=ReferralTags(aws.table()),
        profiles=ReferralProfiles(customers.repository()),
    )

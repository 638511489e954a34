"""The join incentive until unique codes exist: one static code per pool (seam with rewards)."""

from __future__ import annotations

from datetime import datetime


class StaticCouponIssuer:
    """Implements `CouponIssuer` with the same code for everyone of a pool (e.g. `VIP15`); a pool
    without a code gives None and the invitation names the incentive instead."""

    def __init__(self, codes: dict[str, str] | None = None, default: str | None = None):
        self.codes = codes or {}
        self.default = default

    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        return self.codes.get(pool_id, self.default)

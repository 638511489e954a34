"""The join incentive until unique codes exist: one static code per pool (seam with rewards)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


class StaticCouponIssuer:
    """Implements `CouponIssuer` with the same code for everyone of a pool (e.g. `VIP15`); a pool
    without a code gives None and the invitation names the incentive instead."""

    def __init__(
        self,
        codes: dict[str, str] | None = None,
        default: str | None = None,
        default_from: Callable[[], str | None] | None = None,
    ):
        self.codes = codes or {}
        self.default = default
        self.default_from = default_from  # read when a code is asked for (the stored join code)

    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        if pool_id in self.codes:
            return self.codes[pool_id]
        return self.default_from() if self.default_from else self.default

"""Scheduled work of the rewards area.

`coupon-expiry` (hourly): issued codes whose end has come become `expired` (a state; the code and
its history stay) and are counted on their pool. Reads already answer with the state as of `now`,
so the job only makes the counts and the index true; a missed run is caught up by the next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.rewards.coupons import expire_due


def coupon_expiry(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return expire_due(wiring.rewards.coupons(), now)

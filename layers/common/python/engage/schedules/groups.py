"""The groups' jobs: `group-posts` (every 5 minutes: due posts to the sender) and `group-health`
(nightly: yesterday's health per group, the week-below-range alert, the early-warning messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.groups import health, posts


def group_posts(payload: dict[str, Any], now: datetime) -> dict[str, int]:
    return posts.queue_due_posts(wiring.groups.ports(), now)


def group_health(payload: dict[str, Any], now: datetime) -> dict[str, int]:
    return health.daily_health(wiring.groups.ports(), now)

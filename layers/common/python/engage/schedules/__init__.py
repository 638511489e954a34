"""Which job each schedule and each queued page runs: a typed registry of name -> function.

A scheduled event is `{"schedule": "<name>", "now": "<ISO time>"}` (EventBridge Scheduler fills in
the scheduled time; the local runtime injects any clock). A pass page on the PassQueue is
`{"job": "<name>", ...}`. Each job is called as `job(payload, now)` and returns a JSON-able summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from engage.core.errors import Invalid
from engage.core.observability import logger
from engage.core.time import parse_iso, utcnow
from engage.schedules import audience, delivery, groups, journeys, metrics, rewards, segments, tagging


class Job(Protocol):
    def __call__(self, payload: dict[str, Any], now: datetime, /) -> Any: ...


JOBS: dict[str, Job] = {
    "lifecycle-pass": tagging.lifecycle_pass,
    "tag-health": tagging.tag_health,
    "metric-alerts": metrics.metric_alerts,
    "segment-sizes": segments.segment_sizes,
    "release-deferred": delivery.release_deferred,
    "campaign-tick": delivery.campaign_tick,
    "customer-search-index": audience.search_index,  # run by hand once after deploy (no schedule)
    "coupon-expiry": rewards.coupon_expiry,
    "journey-sweep": journeys.journey_sweep,
    "journey-triggers": journeys.journey_triggers,
    "conversions-post": journeys.conversions_post,
    "group-posts": groups.group_posts,
    "group-health": groups.group_health,
}

PAGES: dict[str, Job] = {
    "lifecycle-stats": tagging.lifecycle_stats,
    "lifecycle-page": tagging.lifecycle_page,
    "lifecycle-expiry": tagging.lifecycle_expiry,
    "tag-rename": tagging.tag_rename,
    "tag-delete": tagging.tag_delete,
    "customer-search-index-page": audience.search_index_page,
    "segment-export": audience.segment_export,
    "journey-age-page": journeys.journey_age_page,
}


def run_job(registry: Mapping[str, Job], payload: dict[str, Any]) -> Any:
    name = payload.get("schedule") or payload.get("job")
    if not isinstance(name, str) or name not in registry:
        raise Invalid(f"unknown job {name!r}; known: {', '.join(sorted(registry)) or 'none'}", code="unknown_job")
    raw_now = payload.get("now")
    now = parse_iso(raw_now) if raw_now and not str(raw_now).startswith("<") else utcnow()
    logger.info("running job", extra={"job": name, "now": now.isoformat()})
    return registry[name](payload, now)

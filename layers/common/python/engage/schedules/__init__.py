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
from engage.schedules import audience, delivery, metrics, segments, tagging


class Job(Protocol):
    def __call__(self, payload: dict[str, Any], now: datetime, /) -> Any: ...


JOBS: dict[str, Job] = {
    "lifecycle-pass": tagging.lifecycle_pass,
    "tag-health": tagging.tag_health,
    "metric-alerts": metrics.metric_alerts,
    "segment-sizes": segments.segment_sizes,
    "release-deferred": delivery.release_deferred,
    "campaign-tick": delivery.campaign_tick,
}

PAGES: dict[str, Job] = {
    "lifecycle-stats": tagging.lifecycle_stats,
    "lifecycle-page": tagging.lifecycle_page,
    "lifecycle-expiry": tagging.lifecycle_expiry,
    "tag-rename": tagging.tag_rename,
    "tag-delete": tagging.tag_delete,
    "segment-export": audience.segment_export,
}


def run_job(registry: Mapping[str, Job], payload: dict[str, Any]) -> Any:
    name = payload.get("schedule") or payload.get("job")
    if not isinstance(name, str) or name not in registry:
        raise Invalid(f"unknown job {name!r}; known: {', '.join(sorted(registry)) or 'none'}", code="unknown_job")
    raw_now = payload.get("now")
    now = parse_iso(raw_now) if raw_now and not str(raw_now).startswith("<") else utcnow()
    logger.info("running job", extra={"job": name, "now": now.isoformat()})
    return registry[name](payload, now)

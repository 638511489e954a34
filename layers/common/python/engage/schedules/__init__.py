"""Which domain function each schedule and each queued page runs.

A scheduled event is `{"schedule": "<name>", "now": "<ISO time>"}` (EventBridge Scheduler fills in
the scheduled time; the local runtime injects any clock). A pass page on the PassQueue is
`{"job": "<name>", ...}`. Targets are `module:function`, imported when first used, called as
`function(payload, now)` and returning a JSON-able summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engage.core.errors import Invalid
from engage.core.observability import logger
from engage.core.time import parse_iso, utcnow

JOBS: dict[str, str] = {
    "lifecycle-pass": "engage.schedules.tagging:lifecycle_pass",
    "tag-health": "engage.schedules.tagging:tag_health",
    "metric-alerts": "engage.schedules.metrics:metric_alerts",
    "segment-sizes": "engage.schedules.segments:segment_sizes",
    "release-deferred": "engage.schedules.delivery:release_deferred",
    "campaign-tick": "engage.schedules.delivery:campaign_tick",
}

PAGES: dict[str, str] = {
    "lifecycle-stats": "engage.schedules.tagging:lifecycle_stats",
    "lifecycle-page": "engage.schedules.tagging:lifecycle_page",
    "lifecycle-expiry": "engage.schedules.tagging:lifecycle_expiry",
    "tag-rename": "engage.schedules.tagging:tag_rename",
    "tag-delete": "engage.schedules.tagging:tag_delete",
}


def run_job(registry: dict[str, str], payload: dict[str, Any], importer: Callable[[str], Any]) -> Any:
    name = payload.get("schedule") or payload.get("job")
    if name not in registry:
        raise Invalid(f"unknown job {name!r}; known: {', '.join(sorted(registry)) or 'none'}", code="unknown_job")
    raw_now = payload.get("now")
    now = parse_iso(raw_now) if raw_now and not str(raw_now).startswith("<") else utcnow()
    module_name, function_name = registry[name].split(":")
    function = getattr(importer(module_name), function_name)
    logger.info("running job", extra={"job": name, "now": now.isoformat()})
    return function(payload, now)

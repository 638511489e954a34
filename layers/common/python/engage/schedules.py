"""Which domain function each schedule and each queued page runs.

A scheduled event is `{"schedule": "<name>", "now": "<ISO time>"}` (EventBridge Scheduler fills in
the scheduled time; the local runtime injects any clock). A pass page on the PassQueue is
`{"job": "<name>", ...}`. Targets are `module:function`, imported when first used, called as
`function(payload, now)` and returning a JSON-able summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engage.errors import Invalid
from engage.observability import logger
from engage.timeutil import parse_iso, utcnow

JOBS: dict[str, str] = {
    "lifecycle-pass": "engage.tagging_jobs:lifecycle_pass",
    "tag-health": "engage.tagging_jobs:tag_health",
    "metric-alerts": "engage.metric_jobs:metric_alerts",
    "segment-sizes": "engage.segments.jobs:segment_sizes",
    "release-deferred": "engage.sending_jobs:release_deferred",
    "campaign-tick": "engage.sending_jobs:campaign_tick",
}

PAGES: dict[str, str] = {
    "lifecycle-stats": "engage.tagging_jobs:lifecycle_stats",
    "lifecycle-page": "engage.tagging_jobs:lifecycle_page",
    "lifecycle-expiry": "engage.tagging_jobs:lifecycle_expiry",
    "tag-rename": "engage.tagging_jobs:tag_rename",
    "tag-delete": "engage.tagging_jobs:tag_delete",
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

"""Scheduled jobs and PassQueue pages of the tagging area, wired to their adapters.

Registered in `engage.schedules`: JOBS lifecycle-pass, tag-health; PAGES lifecycle-stats,
lifecycle-page, lifecycle-expiry, tag-rename, tag-delete. Each is `function(payload, now)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.core.observability import logger
from engage.core.time import iso
from engage.tagging import lifecycle
from engage.tagging import service as tagging
from engage.tagging.catalog import HealthConfig, health_report
from engage.tagging.lifecycle import LifecycleConfig


def _config() -> dict[str, Any]:
    return wiring.tagging.reads().config(max_age=60)


def lifecycle_config() -> LifecycleConfig:
    return LifecycleConfig.model_validate(_config().get("lifecycle") or {})


def _ready(now: datetime) -> tagging.Tagging:
    return tagging.ready(wiring.tagging.ports(), now)


def lifecycle_pass(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    _ready(now)
    return lifecycle.start(wiring.tagging.passes(), wiring.tagging.pass_queue(), payload, now, lifecycle_config())


def lifecycle_stats(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return lifecycle.stats_page(
        wiring.tagging.passes(), _ready(now), wiring.tagging.pass_queue(), payload, now, lifecycle_config()
    )


def lifecycle_page(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    t = _ready(now)
    return lifecycle.score_page(
        wiring.tagging.passes(), t, wiring.tagging.pass_queue(), payload, now, lifecycle_config()
    )


def lifecycle_expiry(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return lifecycle.expiry_page(wiring.tagging.passes(), _ready(now), wiring.tagging.pass_queue(), payload, now)


def tag_health(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Weekly: the health report, logged (warnings at warning level) and stored with the catalog."""
    t = _ready(now)
    definitions = list(t.catalog.all(fresh=True).values())
    counts = {d.name: t.memberships.count(d.name) for d in definitions}
    config = HealthConfig.model_validate(_config().get("health") or {})
    report = health_report(definitions, counts, wiring.tagging.reads().customer_count(), now, config)
    wiring.tagging.catalog().save_health(report, at=iso(now))
    for warning in report["warnings"]:
        logger.warning("tag health", extra={"warning": warning})
    return {k: report[k] for k in ("catalog_size", "status", "warnings")}


def tag_rename(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return tagging.continue_rename(
        _ready(now), payload["old"], payload["new"], by=payload.get("by", "system"), reason=payload.get("reason", ""),
        now=now,
    )  # fmt: skip


def tag_delete(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return tagging.continue_delete(
        _ready(now), payload["name"], by=payload.get("by", "system"), reason=payload.get("reason", ""), now=now
    )

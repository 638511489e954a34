"""The hourly `metric-alerts` job: judge active campaigns and segments, then write due 24-hour reports.

Registered in `engage.schedules.JOBS`; the scheduler calls `metric_alerts(payload, now)`, which runs
`run` over the adapters from `engage.wiring` (tests pass their own to `run`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engage import wiring
from engage.core import telemetry
from engage.core.observability import logger
from engage.core.ports import Alerts
from engage.core.time import iso, parse_iso
from engage.metrics.alerts import (
    Findings,
    campaign_findings,
    cohort_days,
    reconcile,
    segment_findings,
    weekly_segment_counts,
)
from engage.metrics.counters import add_up
from engage.metrics.funnel import MetricsConfig, campaign_metrics
from engage.metrics.ports import AlertStore, MetricsReader
from engage.metrics.reports import format_campaign_report


def started_at(meta: dict[str, Any] | None, first_seen: str) -> datetime:
    launched = (meta or {}).get("launched_at")
    return parse_iso(str(launched or first_seen))


def evaluate(reader: MetricsReader, config: MetricsConfig, now: datetime) -> tuple[Findings, set[str], dict]:
    """Findings for every watched campaign and segment, the subjects watched, and campaign metas."""
    limits = config.alerts
    active = reader.active_campaigns(cohort_days(now, limits.active_days))
    findings: Findings = {}
    metas: dict[str, dict[str, Any] | None] = {}
    for campaign_id, first_seen in sorted(active.items()):
        metas[campaign_id] = reader.campaign_meta(campaign_id)
        age = (now - started_at(metas[campaign_id], first_seen)).total_seconds() / 3600
        counts = add_up(reader.campaign_rows(campaign_id))
        findings.update(campaign_findings(campaign_id, counts, age, limits))
    today = now.date()
    rows = reader.daily_rows((today - timedelta(days=21)).isoformat(), (today - timedelta(days=1)).isoformat())
    segments = weekly_segment_counts(rows, today)
    for segment_id, weeks in sorted(segments.items()):
        findings.update(segment_findings(segment_id, weeks, limits))
    subjects = {f"campaign:{c}" for c in active} | {f"segment:{s}" for s in segments}
    return findings, subjects, metas


def write_due_reports(
    reader: MetricsReader, config: MetricsConfig, now: datetime, metas: dict[str, dict[str, Any] | None]
) -> list[str]:
    """24-hour reports for launched campaigns whose launch is at least 24 h (configurable) ago."""
    written = []
    candidates = reader.active_campaigns(cohort_days(now, 3))
    for campaign_id in sorted(candidates):
        meta = metas[campaign_id] if campaign_id in metas else reader.campaign_meta(campaign_id)
        launched = (meta or {}).get("launched_at")
        if not launched or parse_iso(str(launched)) + timedelta(hours=config.report_after_hours) > now:
            continue
        if reader.get_report(campaign_id):
            continue
        metrics = campaign_metrics(campaign_id, reader.campaign_rows(campaign_id), config, meta=meta)
        report = {"campaign_id": campaign_id, "written_at": iso(now), "metrics": metrics}
        report["text"] = format_campaign_report(metrics)
        if reader.put_report(campaign_id, report):
            written.append(campaign_id)
    return written


def run(reader: MetricsReader, alerts: AlertStore, publisher: Alerts, now: datetime) -> dict[str, Any]:
    config = reader.config()
    findings, subjects, metas = evaluate(reader, config, now)
    outcome = reconcile(findings, alerts.open_alerts(), subjects, store=alerts, publisher=publisher, now=now)
    reports = write_due_reports(reader, config, now, metas)
    telemetry.count(telemetry.ALERTS_OPENED, len(outcome["opened"]))
    telemetry.count(telemetry.ALERTS_CLOSED, len(outcome["closed"]))
    telemetry.count(telemetry.REPORTS_WRITTEN, len(reports))
    summary = {**outcome, "judged": len(findings), "reports": reports}
    logger.info("metric alerts", extra=summary)
    return summary


def metric_alerts(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """JOBS["metric-alerts"]: runs hourly."""
    return run(wiring.metrics.counters(), wiring.metrics.alert_store(), wiring.metrics.alert_topic(), now)

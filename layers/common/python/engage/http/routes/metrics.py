"""/v1/campaigns/{id}/metrics and /v1/metrics/daily: counters summed over their shards."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core.errors import NotFound
from engage.core.time import utcnow
from engage.http.auth import require
from engage.metrics.funnel import campaign_metrics, daily_metrics, day_range

router = APIGatewayHttpRouter()


@router.get("/v1/campaigns/<campaign_id>/metrics")
def get_campaign_metrics(campaign_id: str) -> dict[str, Any]:
    require(router.current_event, "marketer")
    store = wiring.metrics.counters()
    rows = store.campaign_rows(campaign_id)
    meta = store.campaign_meta(campaign_id)
    if not rows and not meta:
        raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found")
    out = campaign_metrics(campaign_id, rows, store.config(), meta=meta)
    report = store.get_report(campaign_id)
    out["report_24h"] = {"written_at": report["written_at"], "text": report.get("text")} if report else None
    return out


@router.get("/v1/metrics/daily")
def get_daily_metrics() -> dict[str, Any]:
    require(router.current_event, "marketer")
    event = router.current_event
    store = wiring.metrics.counters()
    config = store.config()
    from_day, to_day = day_range(
        event.get_query_string_value("from"), event.get_query_string_value("to"), utcnow().date(), config.daily_max_days
    )
    rows = store.daily_rows(from_day.isoformat(), to_day.isoformat())
    return daily_metrics(rows, from_day, to_day, config)

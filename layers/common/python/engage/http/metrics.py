"""The metrics API: /v1/campaigns/{id}/metrics and /v1/metrics/daily (counters summed over their
shards), GET /v1/alerts (metric alerts, newest first; ?status=open|closed, ?limit=), and GET /r/{code},
the public click-tracking redirect (no sign-in)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from engage import wiring
from engage.core import telemetry
from engage.core.errors import Invalid, NotFound
from engage.core.time import from_epoch, utcnow
from engage.http.auth import Marketer
from engage.metrics.funnel import campaign_metrics, daily_metrics, day_range
from engage.metrics.links import NOT_FOUND_PAGE, follow_link

router = APIGatewayHttpRouter()


class AlertsOut(BaseModel):
    alerts: list[dict[str, Any]]


@router.get("/v1/campaigns/<campaign_id>/metrics")
def get_campaign_metrics(campaign_id: str, caller: Marketer) -> dict[str, Any]:
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
def get_daily_metrics(caller: Marketer) -> dict[str, Any]:
    event = router.current_event
    store = wiring.metrics.counters()
    config = store.config()
    from_day, to_day = day_range(
        event.get_query_string_value("from"), event.get_query_string_value("to"), utcnow().date(), config.daily_max_days
    )
    rows = store.daily_rows(from_day.isoformat(), to_day.isoformat())
    return daily_metrics(rows, from_day, to_day, config)


@router.get("/v1/alerts")
def list_alerts(caller: Marketer) -> AlertsOut:
    event = router.current_event
    status = event.get_query_string_value("status") or None
    if status not in (None, "open", "closed"):
        raise Invalid("status must be open or closed", code="invalid_status")
    raw_limit = event.get_query_string_value("limit") or "100"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        raise Invalid("limit must be 1-500", code="invalid_limit")
    return AlertsOut(alerts=wiring.metrics.alert_store().history(status=status, limit=int(raw_limit)))


@router.route("/r/<code>", method=["GET", "HEAD"], include_in_schema=False)
def follow(code: str) -> Response[str]:
    event = router.current_event
    http = event.request_context.http
    outcome = follow_link(
        wiring.metrics.links(),
        code,
        method=http.method,
        user_agent=event.headers.get("user-agent") or http.user_agent,
        click_id=event.request_context.request_id,
        # The request's own time: a redelivered request records the same click under the same key.
        now=from_epoch(event.request_context.time_epoch // 1000),
        headers=dict(event.headers),
    )
    if outcome.location is None:
        telemetry.count(telemetry.UNKNOWN_LINKS)
        return Response(status_code=404, content_type=content_types.TEXT_HTML, body=NOT_FOUND_PAGE)
    telemetry.count(telemetry.BOT_CLICKS if outcome.bot else telemetry.LINK_CLICKS)
    return Response(
        status_code=302,
        headers={"Location": outcome.location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        body="",
    )

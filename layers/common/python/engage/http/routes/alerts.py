"""GET /v1/alerts: metric alerts, newest first (?status=open|closed, ?limit=)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core.errors import Invalid
from engage.http.auth import require

router = APIGatewayHttpRouter()


@router.get("/v1/alerts")
def list_alerts() -> dict[str, Any]:
    require(router.current_event, "marketer")
    event = router.current_event
    status = event.get_query_string_value("status") or None
    if status not in (None, "open", "closed"):
        raise Invalid("status must be open or closed", code="invalid_status")
    raw_limit = event.get_query_string_value("limit") or "100"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        raise Invalid("limit must be 1-500", code="invalid_limit")
    return {"alerts": wiring.metrics.alert_store().history(status=status, limit=int(raw_limit))}

"""GET /r/{code}: the public click-tracking redirect (no sign-in)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core import telemetry
from engage.core.time import from_epoch
from engage.metrics.links import NOT_FOUND_PAGE, follow_link

router = APIGatewayHttpRouter()


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

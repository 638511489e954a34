"""POST /v1/events: shop events (orders, carts, clicks, views, customer updates).

In AWS the route has no JWT authorizer: the shop signs the raw body with EVENTS_WEBHOOK_SECRET
(`X-Engage-Signature: sha256=<hex>`). A marketer or admin token is accepted instead where an
authorizer (or the local runtime) supplies group claims. Authentication is checked before the
body is parsed, so an unsigned request learns nothing about the schema. It is the one route whose
role check sits in its body (a signature stands in for the role), not in a `Marketer` parameter.
"""

from __future__ import annotations

import base64

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core.time import utcnow
from engage.http.auth import caller_groups, require
from engage.inbound.shop_events import SIGNATURE_HEADER, parse_event, record_shop_event, verify_signature

router = APIGatewayHttpRouter()


def raw_body() -> bytes:
    event = router.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


@router.post("/v1/events")
def post_event() -> Response[dict]:
    event = router.current_event
    raw = raw_body()
    header = (event.headers or {}).get(SIGNATURE_HEADER)
    if header or not caller_groups(event):
        verify_signature(header, raw, wiring.inbound.events_secrets())
    else:
        require(event, "marketer")
    result = record_shop_event(
        wiring.customers.repository(),
        wiring.inbound.shop_events(),
        parse_event(raw),
        utcnow(),
        default_country=wiring.customers.default_country(),
    )
    status = 200 if result["duplicate"] else 202
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=result)

"""The marketers' HTTP API, shop events and click redirects: routing only."""

import json
from functools import cache
from pathlib import Path

import aws_lambda_powertools.event_handler as event_handler
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage.core.observability import logger, metrics, tracer
from engage.http import audience, campaigns, customers, inbound, segments, tagging
from engage.http import metrics as metric_routes
from engage.http.openapi import build_document
from engage.http.resolver import build_resolver

app = build_resolver()
for router in (
    customers.router,
    tagging.router,
    inbound.router,
    metric_routes.router,
    segments.router,
    campaigns.router,
    audience.router,
):
    app.include_router(router)


SWAGGER_ASSETS = Path(event_handler.__file__).parent / "openapi" / "swagger_ui"


@cache
def document() -> dict:
    """The OpenAPI document (engage/http/openapi.py); the committed openapi.json is this, written out."""
    return build_document(app)


@cache
def swagger_page() -> str:
    """Swagger UI with its script and styles inline (the copies Powertools ships): no CDN is loaded."""
    spec = json.dumps(document()).replace("</", "<\\/")  # keeps a `</script>` in a description inert
    script = (SWAGGER_ASSETS / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    styles = (SWAGGER_ASSETS / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec, script, styles, "", None)


@app.get("/openapi.json", include_in_schema=False)
@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> dict:
    return document()


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> Response[str]:
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, body=json.dumps(document()))
    return Response(200, content_types.TEXT_HTML, body=swagger_page())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

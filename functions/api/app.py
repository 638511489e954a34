"""The marketers' HTTP API, shop events and click redirects: routing only."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage.core.observability import logger, metrics, tracer
from engage.http.resolver import build_resolver
from engage.http.routes import alerts, clicks, customers, events, rules, tags
from engage.http.routes import campaigns as campaign_routes
from engage.http.routes import metrics as metrics_routes
from engage.http.routes import segments as segment_routes
from engage.http.routes import templates as template_routes

app = build_resolver()
app.enable_swagger(path="/docs", title="Engage API")
app.include_router(customers.router)
app.include_router(tags.router)
app.include_router(rules.router)
app.include_router(events.router)
app.include_router(clicks.router)
app.include_router(metrics_routes.router)
app.include_router(alerts.router)
app.include_router(segment_routes.router)
app.include_router(campaign_routes.router)
app.include_router(template_routes.router)


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> dict:
    return app.get_openapi_schema(title="Engage API", version="1").model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

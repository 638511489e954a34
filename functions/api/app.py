"""The marketers' HTTP API, shop events and click redirects: routing only."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage.core.observability import logger, metrics, tracer
from engage.http import campaigns, customers, inbound, segments, tagging
from engage.http import metrics as metric_routes
from engage.http.resolver import build_resolver

app = build_resolver()
app.enable_swagger(path="/docs", title="Engage API")
for router in (
    customers.router,
    tagging.router,
    inbound.router,
    metric_routes.router,
    segments.router,
    campaigns.router,
):
    app.include_router(router)


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

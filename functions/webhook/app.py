"""WhatsApp webhook: Meta's verification handshake and signed notifications, stored once.

GET  /webhook  `hub.challenge` as text/plain when the verify token matches, else 403.
POST /webhook  401 (nothing stored) unless `X-Hub-Signature-256` matches the app secret (or the
               previous one while rotating); otherwise always 200 once stored: what cannot be
               understood is kept for inspection (docs/webhook.md). Storage errors raise, so Meta retries.
               Each 200 emits WebhookLatencyMs (receipt to answer); a 401 or a failure does not.
               The values are buffered in the container and flushed as one EMF blob of up to 100
               values (engage.core.telemetry.flush_when_due), not one blob per POST.

Two routes on one payload format (HTTP API 2.0, which a function URL sends too) are read straight
from the event: Powertools' event handler package would import every resolver it has (AppSync,
asyncio, OpenAPI validation) into the webhook's cold start for them (docs/webhook.md "Cold start").
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from engage import wiring
from engage.core import telemetry
from engage.core.errors import EngageError, Forbidden, NotFound, Unauthorized
from engage.core.observability import logger, tracer
from engage.core.time import from_epoch, utcnow
from engage.inbound import receive as inbound
from engage.inbound import signature

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

PATH = "/webhook"
JSON = "application/json"


def response(status: int, body: str, content_type: str = JSON) -> dict[str, Any]:
    """An HTTP API 2.0 (and function URL) response."""
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": body, "isBase64Encoded": False}


def verify(event: dict[str, Any]) -> dict[str, Any]:
    answer = signature.challenge(event.get("queryStringParameters"), wiring.aws.webhook_settings().verify_token)
    if answer is None:
        raise Forbidden("webhook verification failed", code="verification_failed")
    return response(200, answer, "text/plain")


def receive(event: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    body = signature.raw_body(event.get("body"), bool(event.get("isBase64Encoded")))
    header = signature.header_value(event.get("headers"))
    if not signature.verify(body, header, wiring.aws.webhook_settings().app_secrets):
        raise Unauthorized("missing or invalid X-Hub-Signature-256", code="invalid_signature")
    epoch_ms = (event.get("requestContext") or {}).get("timeEpoch")
    now = from_epoch(epoch_ms / 1000) if epoch_ms else utcnow()
    report = inbound.receive(body, now=now, ports=wiring.inbound.ports())
    telemetry.count(telemetry.WEBHOOK_MESSAGES, report.messages)
    telemetry.count(telemetry.WEBHOOK_STATUSES, report.statuses)
    telemetry.request_latency(telemetry.WEBHOOK_LATENCY, epoch_ms, started)
    return response(200, json.dumps({"received": True, **asdict(report)}))


ROUTES = {("GET", PATH): verify, ("POST", PATH): receive}


def request_line(event: dict[str, Any]) -> tuple[str, str]:
    """(method, path) of the event; a named stage's prefix (`/dev/webhook`) is not part of the route."""
    context = event.get("requestContext") or {}
    method = str((context.get("http") or {}).get("method") or "").upper()
    path = str(event.get("rawPath") or "")
    stage = str(context.get("stage") or "$default")
    if stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return method, path


def route(event: dict[str, Any]) -> dict[str, Any]:
    method, path = request_line(event)
    handler = ROUTES.get((method, path))
    try:
        if handler is None:
            raise NotFound(f"no route for {method} {path}"[:200])
        return handler(event)
    except EngageError as error:
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return response(error.status, json.dumps(error.to_body()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        return route(event)
    finally:
        telemetry.flush_when_due()

"""WhatsApp webhook: Meta's verification handshake and signed notifications, stored once.

GET  /webhook  `hub.challenge` as text/plain when the verify token matches, else 403.
POST /webhook  401 (nothing stored) unless `X-Hub-Signature-256` matches the app secret (or the
               previous one while rotating); otherwise always 200 once stored: what cannot be
               understood is kept for inspection (docs/webhook.md). Storage errors raise, so Meta retries.
               Each 200 emits WebhookLatencyMs (receipt to answer); a 401 or a failure does not.
               The values are buffered in the container and flushed as one EMF blob of up to 100
               values (engage.core.telemetry.flush_when_due), not one blob per POST.
"""

import time
from dataclasses import asdict

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.core import telemetry
from engage.core.errors import Forbidden, Unauthorized
from engage.core.observability import logger, tracer
from engage.core.time import from_epoch, utcnow
from engage.http.resolver import build_resolver
from engage.inbound import receive as inbound
from engage.inbound import signature

app = build_resolver(check_bodies=False)


@app.get("/webhook")
def verify() -> Response[str]:
    answer = signature.challenge(app.current_event.query_string_parameters, wiring.aws.webhook_settings().verify_token)
    if answer is None:
        raise Forbidden("webhook verification failed", code="verification_failed")
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=answer)


@app.post("/webhook")
def receive() -> dict:
    started = time.perf_counter()
    event = app.current_event
    body = signature.raw_body(event.body, bool(event.is_base64_encoded))
    header = signature.header_value(event.headers)
    if not signature.verify(body, header, wiring.aws.webhook_settings().app_secrets):
        raise Unauthorized("missing or invalid X-Hub-Signature-256", code="invalid_signature")
    epoch_ms = event.request_context.time_epoch
    now = from_epoch(epoch_ms / 1000) if epoch_ms else utcnow()
    report = inbound.receive(body, now=now, ports=wiring.inbound.ports())
    telemetry.count(telemetry.WEBHOOK_MESSAGES, report.messages)
    telemetry.count(telemetry.WEBHOOK_STATUSES, report.statuses)
    telemetry.request_latency(telemetry.WEBHOOK_LATENCY, epoch_ms, started)
    return {"received": True, **asdict(report)}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        return app.resolve(event, context)
    finally:
        telemetry.flush_when_due()

"""The webhook's latency metric in the EMF lines Powertools prints (metrics enabled, as in AWS)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import load_event
from tests.helpers.whatsapp import sample, signed_webhook_event

LATENCY = "WebhookLatencyMs"


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.webhook import app

    return app.lambda_handler(event, context)


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF blobs among stdout's lines (the logger's lines have no `_aws`)."""
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [b for b in blobs if "_aws" in b]


def latencies(out: str) -> list[float]:
    """Every WebhookLatencyMs value, checked to be declared in Milliseconds in namespace Engage."""
    values: list[float] = []
    for blob in emf(out):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] == LATENCY:
                    assert (directive["Namespace"], metric["Unit"]) == ("Engage", "Milliseconds")
                    value = blob[LATENCY]
                    values.extend(value if isinstance(value, list) else [value])
    return values


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch: pytest.MonkeyPatch):
    """Metrics enabled, flushed after every POST (the buffer's age limit 0) unless a test sets one."""
    from engage.core import telemetry
    from engage.core.observability import metrics

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setattr(telemetry, "BUFFER_SECONDS", 0.0)
    metrics.clear_metrics()  # what earlier webhook tests in this process left in the container's buffer
    telemetry._buffered_since = None
    yield
    metrics.clear_metrics()
    telemetry._buffered_since = None


def test_a_sample_notification_answered_200_emits_its_latency(aws, lambda_context, capsys):
    # Given the sample signed inbound text (API Gateway's receipt time is a fixed, replayed one)
    event = load_event("webhook/inbound_text")
    # When the handler answers it
    response = handle(event, lambda_context)
    # Then one WebhookLatencyMs is emitted, the handler's own time (the old receipt is ignored)
    assert response["statusCode"] == 200
    [value] = latencies(capsys.readouterr().out)
    assert 0 <= value < 30_000


def test_a_live_request_counts_from_api_gateways_receipt(aws, lambda_context, capsys):
    # Given a request API Gateway received 400 ms ago (a cold start, say)
    event = signed_webhook_event(sample("status_delivered"), time_epoch_ms=int(time.time() * 1000) - 400)
    # When the handler answers it
    assert handle(event, lambda_context)["statusCode"] == 200
    # Then the latency covers the time before the handler ran
    [value] = latencies(capsys.readouterr().out)
    assert 400 <= value < 30_000


def test_an_unparseable_body_answered_200_counts_too(aws, lambda_context, capsys):
    response = handle(signed_webhook_event(b'{"object": "whatsapp_business_account", "entry": [}'), lambda_context)
    assert response["statusCode"] == 200
    assert len(latencies(capsys.readouterr().out)) == 1


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64])
def test_a_signature_failure_is_not_counted(aws, lambda_context, capsys, signature):
    response = handle(signed_webhook_event(sample("inbound_text"), signature=signature), lambda_context)
    assert response["statusCode"] == 401
    assert latencies(capsys.readouterr().out) == []


def test_the_verification_handshake_is_not_counted(aws, lambda_context, capsys):
    assert handle(load_event("webhook/verify"), lambda_context)["statusCode"] == 200
    assert latencies(capsys.readouterr().out) == []


def test_posts_in_quick_succession_share_one_blob(aws, lambda_context, capsys, monkeypatch):
    """At the webhook's rate one EMF blob carries many POSTs' values, not one blob a POST."""
    from engage.core import telemetry

    monkeypatch.setattr(telemetry, "BUFFER_SECONDS", 3600.0)
    for name in ("status_sent", "status_delivered", "status_read"):
        assert handle(signed_webhook_event(sample(name)), lambda_context)["statusCode"] == 200
    assert emf(capsys.readouterr().out) == []  # buffered in the container
    assert telemetry.flush_when_due(now=time.monotonic() + 3600)
    out = capsys.readouterr().out
    assert len(emf(out)) == 1 and len(latencies(out)) == 3

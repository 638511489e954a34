"""Operational metrics (CloudWatch EMF through Powertools Metrics): one place for their names.

Business counts (sent, delivered, ...) live in DynamoDB and are exact; these are for operators:
throughput, latency and errors, cheap to emit (a JSON line on stdout, no API call), alarmed on in
the template. Every function decorates its handler with `@metrics.log_metrics`, which flushes them
once per invocation, except the webhook: its ~2.9 POSTs a message would print a blob each, so its
values are buffered in the container (`flush_when_due`) and go out as one blob of up to 100 values a
metric. See docs/metrics.md for who emits what and "EMF volume" for the sizing.
"""

from __future__ import annotations

import threading
import time

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from engage.core.observability import metrics

# metrics function / click route / alerts job (this area)
COUNTED_TRANSITIONS = "CountedTransitions"  # transitions counted now (replays excluded)
REPLAYED_TRANSITIONS = "ReplayedTransitions"  # transitions already counted (stream replays, duplicates)
LINK_CLICKS = "LinkClicks"  # human clicks on tracked links
BOT_CLICKS = "BotClicks"  # prefetchers and crawlers (not counted as clicks)
UNKNOWN_LINKS = "UnknownLinks"  # /r/{code} for unknown or expired codes
ALERTS_OPENED = "AlertsOpened"
ALERTS_CLOSED = "AlertsClosed"
REPORTS_WRITTEN = "CampaignReportsWritten"

# emitted by the sending and webhook areas (names agreed here, alarmed in the template)
SENDS = "Sends"  # accepted by WhatsApp
SEND_FAILURES = "SendFailures"  # dimension error_code
THROTTLE_WAIT = "ThrottleWaitMs"  # time a send waited for a token
DEFERRALS = "Deferrals"  # dimension reason
WEBHOOK_LATENCY = "WebhookLatencyMs"  # receipt to 200, per POST /webhook (docs/webhook.md)
WEBHOOK_MESSAGES = "WebhookMessages"  # inbound messages per POST /webhook
WEBHOOK_STATUSES = "WebhookStatuses"  # status updates per POST /webhook

LIVE_REQUEST_MS = 30_000  # API Gateway's longest integration timeout: an older receipt is a replayed event


_lock = threading.Lock()  # the sender adds metrics from a batch's parallel jobs
_buffered_since: float | None = None  # monotonic time of the oldest value not flushed yet
BUFFER_SECONDS = 10.0  # the webhook's values are at most this late, unless the container goes idle


def flush_when_due(max_age_s: float | None = None, *, now: float | None = None) -> bool:
    """At the end of an invocation: flushes the buffered metrics once the oldest is `max_age_s` old
    (Powertools itself prints a metric's blob when it holds 100 values). At the webhook's rate a blob
    carries ~100 POSTs instead of one; at a trickle it is one a POST, as with `log_metrics`. Values of
    a container that goes idle wait for its next invocation (lost if Lambda retires it first)."""
    global _buffered_since
    max_age_s = BUFFER_SECONDS if max_age_s is None else max_age_s
    moment = time.monotonic() if now is None else now
    if not metrics.metric_set or is_metrics_disabled():
        _buffered_since = None
        return False
    if _buffered_since is None:
        _buffered_since = moment
    if moment - _buffered_since < max_age_s:
        return False
    metrics.flush_metrics()
    _buffered_since = None
    return True


# With metrics disabled (tests that say so, the local runtime) Powertools still collects values
# and prints them every 100 values, never clearing them: record nothing at all then.
def count(name: str, value: float = 1) -> None:
    """A plain count, flushed with the handler's other metrics."""
    if value and not is_metrics_disabled():
        with _lock:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, value: str, amount: float = 1) -> None:
    """A count with its own dimension (e.g. SendFailures by error_code), written as its own EMF blob."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=amount, namespace=metrics.namespace) as metric:
        metric.add_dimension(name=dimension, value=value)


def milliseconds(name: str, value: float) -> None:
    if is_metrics_disabled():
        return
    with _lock:
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


def _failure(reason: str) -> None:
    """SendFailures in all (what the alarm watches) and by WhatsApp error code or local cause."""
    code = reason.removeprefix("whatsapp:") if reason.startswith("whatsapp:") else reason
    count(SEND_FAILURES)
    count_by(SEND_FAILURES, "error_code", code)


def send_outcome(action: str, reason: str, throttle_wait_ms: float = 0) -> None:
    """The sender's per-job figures: accepted sends and their wait for a token, deferrals by
    reason, and failures (a refusal by WhatsApp, or an outcome given up as unknown)."""
    if action == "sent":
        count(SENDS)
        milliseconds(THROTTLE_WAIT, throttle_wait_ms)
    elif action == "deferred":
        count(DEFERRALS)
        count_by(DEFERRALS, "reason", reason)
    elif action == "failed" or (action == "refused" and reason.startswith("whatsapp:")):
        _failure(reason)


def send_retried(reason: str) -> None:
    """A job handed back to the queue: a failure when WhatsApp or the network refused it; waiting
    for an unknown outcome to settle is not one (a job waiting for a token is re-queued, not retried)."""
    if reason.startswith("whatsapp:") or reason == "transport_error":
        _failure(reason)


def receipt_to_answer_ms(received_epoch_ms: int | None, now_epoch_ms: float, handled_ms: float) -> float:
    """From API Gateway's receipt (`requestContext.timeEpoch`) to now, so a cold start counts as the
    caller sees it; never less than the handler's own `handled_ms` (two hosts' clocks differ by a
    few ms). A replayed or hand-made event (no receipt, or one outside the last 30 s) gets
    `handled_ms`."""
    if not received_epoch_ms or not 0 <= now_epoch_ms - received_epoch_ms <= LIVE_REQUEST_MS:
        return handled_ms
    return max(handled_ms, now_epoch_ms - received_epoch_ms)


def request_latency(name: str, received_epoch_ms: int | None, started: float) -> None:
    """Emits `name` in ms for a request answered now; `started` is `time.perf_counter()` at the
    handler's start, `received_epoch_ms` API Gateway's `requestContext.timeEpoch`."""
    handled_ms = (time.perf_counter() - started) * 1000
    milliseconds(name, receipt_to_answer_ms(received_epoch_ms, time.time() * 1000, handled_ms))

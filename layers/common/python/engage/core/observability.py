"""Logger, Tracer and Metrics shared by every function (service name from POWERTOOLS_*)."""

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()


class Untraced:
    """The Tracer's decorator when tracing is off (POWERTOOLS_TRACE_DISABLED=true, as the webhook
    sets it: its rate would make X-Ray's fixed 5% cost more than it tells). Building a Tracer
    imports the X-Ray SDK, a third of the webhook's cold start, even when it is disabled."""

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        return handler


def tracing_disabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true")


tracer: Any = Untraced() if tracing_disabled() else Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Engage")  # also when imported early

"""What every benchmark needs: moto with the template's resources, and an AWS request counter."""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local.runtime import SECRETS as LOCAL_SECRETS

BENCH_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "engage",
    "POWERTOOLS_METRICS_NAMESPACE": "Engage",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
}

# The local runtime's secrets, which the sample events in events/ are signed with (as the tests' are).
SECRETS = {**LOCAL_SECRETS, "ENGAGE_LINK_BASE_URL": "https://go.shop.example"}


class AwsRequestCounter:
    """Counts AWS API calls by 'service.Operation' through botocore's before-call event hook."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def total(self, service: str | None = None) -> int:
        return sum(n for key, n in self.calls.items() if service is None or key.startswith(service + "."))

    def reset(self) -> None:
        self.calls.clear()


@contextmanager
def moto_stack(**env: str) -> Iterator[tuple[Any, AwsRequestCounter]]:
    """moto with the template's resources and the function environment; yields (resources, counter)."""
    os.environ.update(BENCH_ENV)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    import boto3
    from moto import mock_aws

    from engage import wiring
    from local.infra import create_resources, function_environment, load_template

    counter = AwsRequestCounter()
    with mock_aws():
        template = load_template()
        session = boto3.Session(region_name="eu-west-1")
        resources = create_resources(session, template, stage="bench")
        os.environ.update(
            function_environment(
                template,
                resources,
                {"WhatsAppPhoneNumberId": "1234567890", "WhatsAppApiBase": "http://whatsapp.invalid/v25.0"},
                SECRETS,
            )
        )
        os.environ.update(BENCH_ENV)  # quiet logs and no EMF output, whatever the template says
        os.environ.update(env)
        wiring.reset()
        boto3.DEFAULT_SESSION = None
        boto3.setup_default_session(region_name="eu-west-1")
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)  # type: ignore[union-attr]
        try:
            yield resources, counter
        finally:
            wiring.reset()


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start


def table_row(*cells: Any, widths: tuple[int, ...] = ()) -> str:
    out = []
    for i, cell in enumerate(cells):
        width = widths[i] if i < len(widths) else 14
        text = f"{cell:,.2f}" if isinstance(cell, float) else (f"{cell:,}" if isinstance(cell, int) else str(cell))
        out.append(text.ljust(width) if i == 0 else text.rjust(width))
    return "  ".join(out)

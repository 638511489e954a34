"""Fixtures shared by every suite: fake credentials, Powertools settings, events, context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contract.figures import pytest_configure, pytest_terminal_summary  # noqa: F401 - hooks: the fuzz figures

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "engage",
    "POWERTOOLS_METRICS_NAMESPACE": "Engage",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
}

# The secrets the sample events in events/ are signed with.
WHATSAPP_APP_SECRET = "local-app-secret"
WHATSAPP_VERIFY_TOKEN = "local-verify-token"
EVENTS_WEBHOOK_SECRET = "local-events-secret"
ADMIN_TOKEN = "local-admin-token"
MARKETER_TOKEN = "local-marketer-token"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)


def load_event(name: str) -> dict[str, Any]:
    """`load_event("webhook/inbound_text")` reads events/webhook/inbound_text.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class FakeLambdaContext:
    function_name: str = "engage-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:engage-test"
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto with the template's table, queues and topic; the function environment set; wiring reset."""
    import boto3
    from moto import mock_aws

    from engage import wiring
    from local.infra import create_resources, function_environment, load_template

    with mock_aws():
        template = load_template()
        resources = create_resources(boto3.Session(region_name="eu-west-1"), template, stage="test")
        env = function_environment(
            template,
            resources,
            {"WhatsAppPhoneNumberId": "1234567890", "WhatsAppApiBase": "http://whatsapp.invalid/v25.0"},
            {
                "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
                "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
                "WHATSAPP_ACCESS_TOKEN": "local-access-token",
                "EVENTS_WEBHOOK_SECRET": EVENTS_WEBHOOK_SECRET,
                "ENGAGE_ADMIN_TOKEN": ADMIN_TOKEN,
                "ENGAGE_MARKETER_TOKEN": MARKETER_TOKEN,
                "ENGAGE_LINK_BASE_URL": "https://go.shop.example",
            },
        )
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        wiring.reset()
        yield resources
        wiring.reset()


@pytest.fixture
def serialized_dynamodb(aws: Any) -> Any:
    """Serialises DynamoDB calls between threads, standing in for DynamoDB's own isolation.

    moto applies a transaction by deep-copying the table and restoring the copy when it is
    cancelled, which is not isolated from other threads (a restore can erase another thread's
    write, and two conditional transactions can both pass). The threads still interleave
    between calls.
    """
    import threading

    from engage import wiring

    lock = threading.RLock()
    events = wiring.aws.table().client.meta.events

    def acquire(**_: Any) -> None:  # a handler that returns a value would replace the response
        lock.acquire()

    def release(**_: Any) -> None:
        lock.release()

    events.register("before-call.dynamodb", acquire)
    events.register("after-call.dynamodb", release)
    return lock

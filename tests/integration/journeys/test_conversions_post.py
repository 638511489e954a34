"""conversions-post through the scheduler handler on moto: the outbox's due index, claims and marks,
posting to the fake Conversions API with the real client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.fake_conversions import FakeConversions

T0 = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
CLICK = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM"


@pytest.fixture
def meta(aws: Any, monkeypatch: pytest.MonkeyPatch) -> FakeConversions:
    from engage import wiring
    from engage.adapters.conversions_api import ConversionsApiClient
    from engage.core.settings import ConversionsSettings

    fake = FakeConversions(access_token="capi-token", dataset_id="910000000000001")
    settings = ConversionsSettings(
        CONVERSIONS_DATASET_ID="910000000000001",
        WHATSAPP_BUSINESS_ACCOUNT_ID="102290129340398",
    )
    client = ConversionsApiClient(settings, "capi-token", http=httpx.Client(transport=httpx.MockTransport(fake)))
    monkeypatch.setattr(wiring.journeys, "conversions_api", lambda: client)
    return fake


def report(event_id: str, name: str = "Purchase") -> None:
    from engage import wiring

    wiring.journeys.conversions_outbox().report(
        {
            "event_id": event_id,
            "event_name": name,
            "event_time": int(T0.timestamp()),
            "action_source": "business_messaging",
            "messaging_channel": "whatsapp",
            "user_data": {"ctwa_clid": CLICK},
            "custom_data": {"value": 89.0, "currency": "EUR"},
        }
    )


def run(context: Any, at: datetime) -> dict[str, Any]:
    from functions.scheduler import app as scheduler

    result: dict[str, Any] = scheduler.lambda_handler({"schedule": "conversions-post", "now": at.isoformat()}, context)
    return result


def stored(event_id: str) -> dict[str, Any]:
    from engage import wiring
    from engage.adapters.dynamo import keys

    item = wiring.aws.table().get(keys.conversion_pk(T0.date().isoformat()), event_id)
    assert item is not None
    return item


def test_a_conversion_reaches_meta_once_even_when_the_job_runs_twice(meta: FakeConversions, lambda_context) -> None:
    report("journey:c_1:welcome:1")
    report("journey:c_1:welcome:1")
    first, second = run(lambda_context, T0), run(lambda_context, T0 + timedelta(minutes=5))
    assert first["accepted"] == 1 and second["accepted"] == 0
    assert list(meta.received) == ["journey:c_1:welcome:1"] and meta.requests == 1
    item = stored("journey:c_1:welcome:1")
    assert item["state"] == "sent" and "gsi2pk" not in item
    assert meta.received["journey:c_1:welcome:1"]["user_data"]["whatsapp_business_account_id"] == "102290129340398"


def test_a_5xx_is_retried_and_a_400_is_dropped_with_its_reason(meta: FakeConversions, lambda_context) -> None:
    report("journey:c_1:welcome:1")
    report("journey:c_2:survey:1", name="Lead")  # Meta refuses this name for business messaging
    meta.fail_next = [500]
    summary = run(lambda_context, T0)
    assert (summary["retry"], summary["refused"]) == (1, 1)  # due in event-id order: c_1 met the 500
    assert run(lambda_context, T0 + timedelta(minutes=1))["accepted"] == 0  # backing off
    assert run(lambda_context, T0 + timedelta(minutes=6))["accepted"] == 1
    assert stored("journey:c_1:welcome:1")["state"] == "sent"
    dropped = stored("journey:c_2:survey:1")
    assert dropped["state"] == "dropped" and "2804066" in dropped["reason"] and "gsi2pk" not in dropped
    assert list(meta.received) == ["journey:c_1:welcome:1"]


def test_without_a_dataset_the_job_posts_nothing(aws: Any, lambda_context) -> None:
    report("journey:c_1:welcome:1")
    assert run(lambda_context, T0)["waiting"] == 1
    assert stored("journey:c_1:welcome:1")["state"] == "pending"

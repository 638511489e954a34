"""Posting conversions to Meta's Conversions API: the real client against the fake endpoint
(httpx.MockTransport, no socket) and the outbox in memory."""

from __future__ import annotations

from datetime import timedelta

import httpx

from engage.adapters.conversions_api import ConversionsApiClient
from engage.core.settings import ConversionsSettings
from engage.journeys import conversions
from local.fake_conversions import FakeConversions
from tests.fakes.journeys import FakeConversionQueue
from tests.fakes.sending import T0

TOKEN = "local-conversions-token"
SETTINGS = ConversionsSettings(
    CONVERSIONS_DATASET_ID="local-dataset",
    WHATSAPP_BUSINESS_ACCOUNT_ID="1234567890123",
    WHATSAPP_API_BASE="https://graph.test/v25.0",
)


def event(event_id: str = "journey:c_1:welcome:1", name: str = "Purchase", at=T0) -> dict:
    return {
        "event_id": event_id,
        "event_name": name,
        "event_time": int(at.timestamp()),
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM"},
        "custom_data": {"value": 49.9, "currency": "EUR"},
    }


def setup() -> tuple[FakeConversionQueue, FakeConversions, ConversionsApiClient]:
    meta = FakeConversions()
    api = ConversionsApiClient(SETTINGS, TOKEN, http=httpx.Client(transport=httpx.MockTransport(meta)))
    return FakeConversionQueue(), meta, api


def test_a_conversion_reaches_meta_once_when_the_job_runs_twice() -> None:
    queue, meta, api = setup()
    queue.report(event())
    queue.report(event())  # the engine reported it again (a replayed goal): one outbox item
    assert conversions.post_due(queue, api, T0)["accepted"] == 1
    assert conversions.post_due(queue, api, T0 + timedelta(minutes=5))["accepted"] == 0
    assert meta.requests == 1 and meta.duplicates == 0
    (received,) = meta.received.values()
    assert received["user_data"]["whatsapp_business_account_id"] == "1234567890123"
    assert received["event_name"] == "Purchase" and received["custom_data"] == {"value": 49.9, "currency": "EUR"}
    assert queue.items["journey:c_1:welcome:1"]["state"] == "sent"


def test_a_5xx_is_retried_after_a_backoff_and_then_accepted() -> None:
    queue, meta, api = setup()
    queue.report(event())
    meta.fail_next = [503]
    assert conversions.post_due(queue, api, T0)["retry"] == 1
    item = queue.items["journey:c_1:welcome:1"]
    assert item["state"] == "retrying" and item["attempts"] == 1 and "503" in item["last_error"]
    assert conversions.post_due(queue, api, T0 + timedelta(minutes=4))["accepted"] == 0  # not due yet
    assert conversions.post_due(queue, api, T0 + timedelta(minutes=5))["accepted"] == 1
    assert list(meta.received) == ["journey:c_1:welcome:1"]


def test_a_timeout_is_retried() -> None:
    queue = FakeConversionQueue()

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api = ConversionsApiClient(SETTINGS, TOKEN, http=httpx.Client(transport=httpx.MockTransport(hang)))
    queue.report(event())
    assert conversions.post_due(queue, api, T0)["retry"] == 1
    assert queue.items["journey:c_1:welcome:1"]["last_error"] == "transport: ReadTimeout"


def test_a_400_drops_the_event_with_metas_reason() -> None:
    queue, meta, api = setup()
    queue.report(event(name="Lead"))  # not an event name Meta takes from business messaging
    assert conversions.post_due(queue, api, T0)["refused"] == 1
    item = queue.items["journey:c_1:welcome:1"]
    assert item["state"] == "dropped" and "2804066" in item["reason"] and "http 400" in item["reason"]
    assert conversions.post_due(queue, api, T0 + timedelta(days=1)) == dict.fromkeys(
        ("accepted", "retry", "refused", "expired", "skipped"), 0
    )
    assert meta.received == {}


def test_a_wrong_token_keeps_the_event_for_a_fixed_token() -> None:
    queue, meta, _ = setup()
    api = ConversionsApiClient(SETTINGS, "expired", http=httpx.Client(transport=httpx.MockTransport(meta)))
    queue.report(event())
    assert conversions.post_due(queue, api, T0)["retry"] == 1
    assert "190" in queue.items["journey:c_1:welcome:1"]["last_error"]


def test_an_event_older_than_seven_days_is_dropped_unposted() -> None:
    queue, meta, api = setup()
    queue.report(event(at=T0 - timedelta(days=8)))
    assert conversions.post_due(queue, api, T0)["expired"] == 1 and meta.requests == 0


def test_without_a_dataset_nothing_is_posted_and_events_wait() -> None:
    queue, meta, _ = setup()
    queue.report(event())
    assert conversions.post_due(queue, None, T0)["waiting"] == 1
    assert queue.items["journey:c_1:welcome:1"]["state"] == "pending"


def test_a_second_worker_skips_an_event_the_first_one_claimed() -> None:
    queue, meta, api = setup()
    queue.report(event())
    (seen,) = queue.due(T0, 10)
    assert queue.claim(seen, T0 + conversions.LEASE) is not None
    assert queue.claim(seen, T0 + conversions.LEASE) is None  # the same view, a second time
    assert conversions.post_due(queue, api, T0)["accepted"] == 0 and meta.requests == 0
    assert conversions.post_due(queue, api, T0 + conversions.LEASE)["accepted"] == 1  # its worker died


def test_backoff_doubles_up_to_six_hours() -> None:
    assert [conversions.backoff(n).total_seconds() / 60 for n in (1, 2, 3)] == [5, 10, 20]
    assert conversions.backoff(20) == timedelta(hours=6)


def test_without_a_dataset_id_the_token_is_not_even_read(monkeypatch) -> None:
    from engage import wiring

    monkeypatch.delenv("CONVERSIONS_DATASET_ID", raising=False)
    monkeypatch.setenv("CONVERSIONS_ACCESS_TOKEN", "ssm:/engage/dev/meta/conversions-token")  # would call SSM
    wiring.journeys.conversions_api.cache_clear()
    assert wiring.journeys.conversions_api() is None
    wiring.journeys.conversions_api.cache_clear()

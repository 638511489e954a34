"""The local runtime as a user meets it: `python -m local.runtime` in its own process, driven only over HTTP."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from engage.inbound.signature import sign
from local.fake_whatsapp import inbound_text
from tests.conftest import MARKETER_TOKEN, ROOT, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN
from tests.helpers.runtime_process import start_runtime

pytestmark = pytest.mark.e2e

WEBHOOK_APP = ROOT / "functions" / "webhook" / "app.py"
needs_webhook = pytest.mark.skipif(not WEBHOOK_APP.exists(), reason="functions/webhook/app.py is not written yet")
MARKETER = {"authorization": f"Bearer {MARKETER_TOKEN}"}
ACCESS = {"authorization": "Bearer local-access-token"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = start_runtime(tmp_path_factory.mktemp("runtime") / "runtime.log")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


def test_runtime_describes_itself(client):
    overview = client.get("/_local").json()
    assert overview["functions"]["ApiFunction"]["loaded"] is True
    assert "SenderFunction/SendJobs" in overview["queues"]
    assert {"TaggerFunction/TableStream", "MetricsFunction/TableStream"} <= set(overview["streams"])
    assert overview["whatsapp_api_base"].endswith("/_fake/graph/v25.0")


def test_customers_route_needs_a_token_and_answers_404_for_a_stranger(client):
    assert client.get("/v1/customers/4915100000001").status_code == 401
    response = client.get("/v1/customers/4915100000001", headers=MARKETER)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


def test_unknown_route_is_404(client):
    assert client.get("/v2/nothing").json() == {"message": "Not Found"}


@needs_webhook
def test_webhook_verification_handshake(client):
    params = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    ok = client.get("/webhook", params=params)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert client.get("/webhook", params={**params, "hub.verify_token": "wrong"}).status_code == 403


@needs_webhook
def test_signed_inbound_message_creates_the_customer(client):
    notification = inbound_text("4915100000002", "Hallo", user_id="DE.1000000000000000077", name="Mara")
    body = json.dumps(notification).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, WHATSAPP_APP_SECRET)}
    assert client.post("/webhook", content=body, headers=headers).status_code == 200
    client.post("/_local/drain")
    customer = client.get("/v1/customers/4915100000002", headers=MARKETER).json()
    assert customer["wa_id"] == "4915100000002" and customer["user_id"] == "DE.1000000000000000077"


def test_fake_whatsapp_send_lands_in_the_outbox_and_drain_goes_idle(client):
    client.delete("/_local/outbox")
    message = {"messaging_product": "whatsapp", "to": "+4915100000003", "type": "text", "text": {"body": "Hi"}}
    assert client.post("/_fake/graph/v25.0/1234567890/messages", json=message).status_code == 401
    sent = client.post("/_fake/graph/v25.0/1234567890/messages", json=message, headers=ACCESS)
    assert sent.status_code == 200
    wamid = sent.json()["messages"][0]["id"]
    drained = client.post("/_local/drain").json()
    assert drained["idle"] is True
    outbox = client.get("/_local/outbox").json()["messages"]
    assert [(m["to"], m["wamid"], m["text"]) for m in outbox] == [("+4915100000003", wamid, "Hi")]
    if WEBHOOK_APP.exists():
        assert outbox[0]["statuses"][:2] == ["sent", "delivered"]


def test_fault_injection_over_http(client):
    client.post("/_local/whatsapp/faults", json={"code": 130429, "count": 1})
    message = {"messaging_product": "whatsapp", "to": "4915100000004", "type": "text", "text": {"body": "Hi"}}
    limited = client.post("/_fake/graph/v25.0/1234567890/messages", json=message, headers=ACCESS)
    assert (limited.status_code, limited.json()["error"]["code"]) == (400, 130429)
    assert client.post("/_fake/graph/v25.0/1234567890/messages", json=message, headers=ACCESS).status_code == 200
    client.delete("/_local/whatsapp/faults")


def test_unknown_schedule_is_404_and_known_ones_are_listed(client):
    response = client.post("/_local/schedules/no-such-job", params={"now": "2026-11-23T10:00:00Z"})
    assert response.status_code == 404
    assert "release-deferred" in response.json()["known"]
    names = {s["name"] for s in client.get("/_local/schedules").json()["schedules"]}
    assert {
        "release-deferred",
        "campaign-tick",
        "metric-alerts",
        "lifecycle-pass",
        "tag-health",
        "segment-sizes",
        "group-posts",
        "group-health",
        "journey-sweep",
        "journey-triggers",
        "conversions-post",
        "coupon-expiry",
    } == names


def test_the_fake_conversions_api_records_each_event_id_once(client):
    event = {
        "event_id": "journey:c_e2e:welcome:1",
        "event_name": "Purchase",
        "event_time": 1795342530,
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"ctwa_clid": "ARAkLkA8rmlFeiCk", "whatsapp_business_account_id": "1234567890123"},
        "custom_data": {"value": 89.0, "currency": "EUR"},
    }
    url = "/_fake/graph/v25.0/local-dataset/events"
    refused = client.post(url, params={"access_token": "wrong"}, json={"data": [event]})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 190
    for _ in range(2):
        accepted = client.post(url, params={"access_token": "local-conversions-token"}, json={"data": [event]})
        assert accepted.status_code == 200 and accepted.json()["events_received"] == 1
    state = client.get("/_local/conversions").json()
    assert [e["event_id"] for e in state["received"]].count("journey:c_e2e:welcome:1") == 1
    assert state["duplicates"] >= 1

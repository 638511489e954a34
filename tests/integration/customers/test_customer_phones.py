"""Phone numbers through the api handler on moto: national forms need ENGAGE_DEFAULT_COUNTRY, and
lookups accept a number however it is written."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EVENTS_WEBHOOK_SECRET, FakeLambdaContext
from tests.helpers.events import http_event


def send(event: dict) -> tuple[int, dict]:
    from functions.api import app

    response = app.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def customers() -> list:
    from engage import wiring

    return list(wiring.customers.repository().all())


@pytest.fixture
def default_country(aws, monkeypatch):
    from engage import wiring

    monkeypatch.setenv("ENGAGE_DEFAULT_COUNTRY", "DE")
    wiring.reset()
    yield "DE"
    wiring.reset()


def shop_event(phone: str) -> tuple[int, dict]:
    from engage.inbound.shop_events import signature

    raw = json.dumps(
        {"id": "cu-1", "type": "customer_upserted", "customer": {"phone": phone}, "data": {"name": "Asha"}}
    )
    headers = {"x-engage-signature": signature(EVENTS_WEBHOOK_SECRET, raw.encode())}
    return send(http_event("POST", "/v1/events", raw_body=raw, headers=headers))


def test_a_national_number_without_a_default_country_is_refused_and_no_consent_is_recorded(aws):
    body = {"phone": "015123456789", "marketing_consent": True}
    status, reply = send(http_event("POST", "/v1/customers", body=body, groups="marketer"))
    assert (status, reply["error"]["code"]) == (422, "phone_needs_country")
    assert "ENGAGE_DEFAULT_COUNTRY" in reply["error"]["message"]
    status, reply = shop_event("015123456789")
    assert (status, reply["error"]["code"]) == (422, "phone_needs_country")
    assert customers() == []  # in particular no +1 512 345 6789


def test_a_national_number_is_read_in_the_default_country(default_country):
    body = {"phone": "0151 2345 6789", "marketing_consent": True}
    status, reply = send(http_event("POST", "/v1/customers", body=body, groups="marketer"))
    assert status == 201 and reply["wa_id"] == "4915123456789" and reply["country"] == "DE"
    status, reply = shop_event("015123456789")
    assert status == 202 and reply["new_customer"] is False


@pytest.mark.parametrize(
    "ref",
    [
        "4915123456789",
        "+4915123456789",
        "+49 151 2345 6789",
        quote("+49 151 2345 6789", safe=""),
        "%2B4915123456789",
        "0049%20151%2023456789",
    ],
)
def test_lookups_accept_the_number_however_it_is_written(aws, ref):
    send(http_event("POST", "/v1/customers", body={"phone": "+4915123456789"}, groups="marketer"))
    status, reply = send(http_event("GET", f"/v1/customers/{ref}", groups="marketer"))
    assert status == 200 and reply["wa_id"] == "4915123456789"
    status, reply = send(http_event("PUT", f"/v1/customers/{ref}/consent", body={"marketing": True}, groups="marketer"))
    assert status == 200 and reply["consent"]["marketing"] is True


def test_a_national_lookup_uses_the_default_country(default_country):
    send(http_event("POST", "/v1/customers", body={"phone": "+4915123456789"}, groups="marketer"))
    status, reply = send(http_event("GET", "/v1/customers/0151%202345%206789", groups="marketer"))
    assert status == 200 and reply["wa_id"] == "4915123456789"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    phone=st.text(max_size=40) | st.from_regex(r"\+?0{0,2}[0-9 ()\-.]{1,20}", fullmatch=True),
    encode=st.booleans(),
)
def test_any_phone_is_a_customer_or_a_4xx_never_a_5xx(aws, phone, encode):
    before = len(customers())
    status, reply = send(http_event("POST", "/v1/customers", body={"phone": phone}, groups="marketer"))
    assert status in (200, 201, 400, 422), reply
    if status >= 400:
        assert reply["error"]["code"] and len(customers()) == before
    ref = quote(phone, safe="") if encode else phone.replace("/", "")
    status, reply = send(http_event("GET", f"/v1/customers/{ref}", groups="marketer"))
    assert status in (200, 400, 404, 422), reply
    assert set(reply) != {"error"} or reply["error"]["code"]

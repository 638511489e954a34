"""POST /v1/events through the api handler on moto: signatures, validation, idempotency, aggregates."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EVENTS_WEBHOOK_SECRET, load_event
from tests.helpers.events import http_event


@pytest.fixture
def api(aws):
    from functions.api import app

    return app


def signed(body: dict, secret: str = EVENTS_WEBHOOK_SECRET, **kwargs) -> dict:
    from engage.inbound.shop_events import signature

    raw = json.dumps(body)
    headers = {"x-engage-signature": signature(secret, raw.encode())}
    return http_event("POST", "/v1/events", raw_body=raw, headers=headers, **kwargs)


def call(api, event, context):
    response = api.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def order(event_id="ord-1", total=40.0, coupon=None, occurred_at="2026-11-23T10:00:00Z"):
    return {
        "id": event_id,
        "type": "order_placed",
        "occurred_at": occurred_at,
        "customer": {"phone": "+49 151 23456789", "name": "Asha"},
        "data": {
            "order_id": event_id,
            "items": [{"product": "Silk scarf", "category": "accessories", "price": 20.0, "quantity": 2}],
            "total": total,
            "currency": "EUR",
            **({"coupon": coupon} if coupon else {}),
        },
    }


def profile():
    from engage import wiring

    cid = wiring.customers.repository().find_id(wa_id="4915123456789")
    return wiring.aws.table().get(f"CUST#{cid}", "PROFILE")


def test_the_sample_order_is_accepted_and_stored_in_history(api, lambda_context):
    status, body = call(api, load_event("api/event_order_placed"), lambda_context)
    assert status == 202 and body["duplicate"] is False and body["new_customer"] is True
    from engage import wiring

    history = list(wiring.aws.table().query(f"CUST#{body['customer_id']}", sk_prefix="EVT#"))
    assert [h["sk"] for h in history] == ["EVT#2026-11-23T11:05:00Z#order_placed#ord-100234"]
    assert history[0]["data"]["coupon"] == "WELCOME10" and history[0]["kind"] == "order_placed"


@pytest.mark.parametrize("name", ["cart_abandoned", "link_clicked", "product_viewed", "customer_upserted"])
def test_every_sample_shop_event_is_accepted(api, lambda_context, name):
    status, body = call(api, load_event(f"api/event_{name}"), lambda_context)
    assert status == 202, body
    assert body["type"] == name


def test_a_duplicate_event_id_changes_nothing(api, lambda_context):
    first = call(api, signed(order()), lambda_context)
    again = call(api, signed(order(total=999.0, occurred_at="2026-11-23T10:05:00Z")), lambda_context)
    assert first[0] == 202 and again == (200, {**first[1], "duplicate": True, "new_customer": False})
    p = profile()
    assert (p["orders"], p["total_spent"], p["item_count"], p["order_times"]) == (1, 40, 2, ["2026-11-23T10:00:00Z"])


def test_order_aggregates_add_up_once_per_order(api, lambda_context):
    call(api, signed(order("o1", 40.0, coupon="X", occurred_at="2026-11-20T10:00:00Z")), lambda_context)
    call(api, signed(order("o2", 60.0, occurred_at="2026-11-10T10:00:00Z")), lambda_context)  # arrives late
    p = profile()
    assert (p["orders"], p["total_spent"], p["coupon_orders"]) == (2, 100, 1)
    assert (p["first_order_at"], p["last_order_at"]) == ("2026-11-10T10:00:00Z", "2026-11-20T10:00:00Z")
    from engage import wiring

    assert wiring.aws.table().get("STATS", "SHOP")["item_count"] == 4


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_signature"),
        ({"x-engage-signature": "sha256=" + "0" * 64}, "bad_signature"),
        ({"x-engage-signature": "garbage"}, "bad_signature"),
    ],
)
def test_unsigned_or_badly_signed_events_are_401(api, lambda_context, headers, code):
    event = http_event("POST", "/v1/events", raw_body=json.dumps(order()), headers=headers)
    status, body = call(api, event, lambda_context)
    assert (status, body["error"]["code"]) == (401, code)


def test_a_signature_with_another_secret_is_refused(api, lambda_context):
    status, body = call(api, signed(order(), secret="someone-elses"), lambda_context)
    assert (status, body["error"]["code"]) == (401, "bad_signature")


def test_a_marketer_token_may_post_events_without_a_signature(api, lambda_context):
    event = http_event("POST", "/v1/events", body=order(), groups="marketer")
    assert call(api, event, lambda_context)[0] == 202


def test_a_base64_body_is_verified_over_its_decoded_bytes(api, lambda_context):
    from engage.inbound.shop_events import signature

    raw = json.dumps(order())
    headers = {"x-engage-signature": signature(EVENTS_WEBHOOK_SECRET, raw.encode())}
    event = http_event("POST", "/v1/events", raw_body=raw, headers=headers, base64_body=True)
    assert call(api, event, lambda_context)[0] == 202


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b.update(type="order_shipped"), "type"),
        (lambda b: b["data"].update(currency="euro"), "order_placed.data.currency"),
        (lambda b: b["data"].update(items=[]), "order_placed.data.items"),
        (lambda b: b["data"].update(surprise=1), "order_placed.data.surprise: Extra inputs are not permitted"),
        (lambda b: b.update(customer={}), "customer needs a wa_id, phone or user_id"),
        (lambda b: b.update(customer={"phone": "12"}), "not a phone number"),
    ],
)
def test_invalid_events_are_refused_with_a_clear_message(api, lambda_context, mutate, expected):
    body = order()
    mutate(body)
    status, reply = call(api, signed(body), lambda_context)
    assert 400 <= status < 500
    assert expected in reply["error"]["message"], reply


def test_customer_upserted_sets_name_and_merges_attributes(api, lambda_context):
    status, body = call(api, load_event("api/event_customer_upserted"), lambda_context)
    from engage import wiring

    customer = wiring.customers.repository().get(body["customer_id"])
    assert customer.name == "Asha K."
    assert customer.attributes == {"loyalty_tier": "gold", "newsletter": True, "email": "asha@example.com"}


def zone_event(event_id: str, zone) -> dict:
    return {
        "id": event_id,
        "type": "customer_upserted",
        "occurred_at": "2026-11-23T08:00:00Z",
        "customer": {"phone": "+7 916 123 45 67"},
        "data": {"timezone": zone},
    }


def test_customer_upserted_records_the_zone_the_shop_knows(api, lambda_context):
    status, body = call(api, signed(zone_event("tz-1", "Asia/Yekaterinburg")), lambda_context)
    assert status == 202
    from engage import wiring

    customer = wiring.customers.repository().get(body["customer_id"])
    assert (customer.timezone, customer.timezone_source) == ("Asia/Yekaterinburg", "shop")


@pytest.mark.parametrize("zone", ["Moscow", "Mars/Olympus", "UTC+3", "", None])
def test_customer_upserted_with_a_zone_that_is_not_iana_is_refused(api, lambda_context, zone):
    status, body = call(api, signed(zone_event("tz-bad", zone)), lambda_context)
    if zone is None:  # an explicit null means "not given"
        assert status == 202
        return
    assert status == 422 and "timezone" in body["error"]["message"]

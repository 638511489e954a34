"""GET /v1/customers/{ref} through the api handler on moto."""

from __future__ import annotations

import json

from tests.helpers.events import http_event


def test_customer_is_found_by_wa_id_and_by_user_id(aws, lambda_context):
    # Given a customer known by phone and by business-scoped user id
    from engage import wiring
    from engage.core.time import parse_iso
    from engage.customers.profiles import resolve_customer
    from functions.api import app

    customer, created = resolve_customer(
        wiring.customers.repository(),
        wa_id="4915123456789",
        user_id="DE.1000000000000000001",
        name="Asha",
        now=parse_iso("2026-11-23T10:00:00Z"),
    )
    assert created
    # When a marketer reads it by either identity
    for ref in ("4915123456789", "DE.1000000000000000001", customer.id):
        response = app.lambda_handler(http_event("GET", f"/v1/customers/{ref}", groups="marketer"), lambda_context)
        # Then the same profile comes back
        assert response["statusCode"] == 200
        body = json.loads(response["body"])
        assert body["id"] == customer.id
        assert body["country"] == "DE"
        assert body["timezone"] == "Europe/Berlin"


def test_unknown_customer_is_a_404_with_the_error_shape(aws, lambda_context):
    from functions.api import app

    response = app.lambda_handler(http_event("GET", "/v1/customers/4915000000000", groups="marketer"), lambda_context)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "customer_not_found"


def test_reading_customers_needs_a_signed_in_caller(aws, lambda_context):
    from functions.api import app

    response = app.lambda_handler(http_event("GET", "/v1/customers/4915123456789"), lambda_context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"


def call(method, path, body=None, groups="marketer"):
    from functions.api import app
    from tests.conftest import FakeLambdaContext

    response = app.lambda_handler(http_event(method, path, body=body, groups=groups), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_upsert_by_phone_creates_then_updates_the_same_customer(aws):
    status, created = call(
        "POST",
        "/v1/customers",
        {"phone": "+49 151 2345 6789", "name": "Asha", "marketing_consent": True, "attributes": {"tier": "gold"}},
    )
    assert status == 201
    assert created["wa_id"] == "4915123456789"
    assert created["consent"]["marketing"] is True
    assert created["consent"]["source"].startswith("api:")
    status, updated = call("POST", "/v1/customers", {"phone": "4915123456789", "attributes": {"size": "M"}})
    assert status == 200
    assert updated["id"] == created["id"]
    assert updated["attributes"] == {"tier": "gold", "size": "M"}
    assert updated["consent"]["marketing"] is True  # not given: unchanged


def test_upsert_refuses_bad_input_and_changes_nothing(aws):
    from engage import wiring

    assert call("POST", "/v1/customers", {"phone": "12"})[1]["error"]["code"] == "invalid_phone"
    assert call("POST", "/v1/customers", {"name": "No identity"})[1]["error"]["code"] == "missing_identity"
    status, body = call("POST", "/v1/customers", {"phone": "4915123456789", "colour": "red"})
    assert status == 422 and "colour" in body["error"]["message"]
    assert list(wiring.customers.repository().all()) == []


def test_consent_is_recorded_with_its_source(aws):
    _, created = call("POST", "/v1/customers", {"phone": "4915123456789"})
    assert created["consent"]["marketing"] is False
    status, body = call("PUT", "/v1/customers/4915123456789/consent", {"marketing": True, "source": "checkout"})
    assert status == 200
    assert body["consent"]["marketing"] is True
    assert body["consent"]["source"] == "checkout:marketer@example.com"


def test_erasure_is_admin_only_and_removes_the_customer(aws):
    call("POST", "/v1/customers", {"phone": "4915123456789"})
    status, body = call("DELETE", "/v1/customers/4915123456789")
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = call("DELETE", "/v1/customers/4915123456789", groups="admin")
    assert status == 200 and body["erased"].startswith("c_")
    assert call("GET", "/v1/customers/4915123456789")[0] == 404


def test_a_customer_zone_set_through_the_api_is_kept_and_wins_over_the_number(aws):
    # Given a Russian mobile, whose zone the number alone cannot tell
    status, body = call("POST", "/v1/customers", {"phone": "+7 916 123-45-67"})
    assert status == 201
    assert (body["timezone"], body["timezone_source"]) == ("Europe/Moscow", "number")
    # When the marketer records where the customer lives
    status, body = call("POST", "/v1/customers", {"phone": "+79161234567", "timezone": "Asia/Vladivostok"})
    # Then it is stored as known, and a later upsert without a zone keeps it
    assert status == 200 and (body["timezone"], body["timezone_source"]) == ("Asia/Vladivostok", "api")
    status, body = call("POST", "/v1/customers", {"phone": "+79161234567", "name": "Oleg"})
    assert (body["timezone"], body["timezone_source"]) == ("Asia/Vladivostok", "api")


def test_a_zone_that_is_not_an_iana_name_is_refused_and_changes_nothing(aws):
    call("POST", "/v1/customers", {"phone": "+79161234567"})
    for bad in ("Mars/Olympus", "", "+03:00", "europe/moscow", "x" * 200, "../../etc/passwd", 3):
        status, body = call("POST", "/v1/customers", {"phone": "+79161234567", "timezone": bad, "name": "Changed"})
        assert status == 422 and body["error"]["code"] == "validation_error", (bad, body)
    _, body = call("GET", "/v1/customers/79161234567")
    assert body["name"] is None and body["timezone"] == "Europe/Moscow"

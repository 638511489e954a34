"""GET /v1/customers/{ref} through the api handler on moto."""

from __future__ import annotations

import json

from tests.helpers.events import http_event


def test_customer_is_found_by_wa_id_and_by_user_id(aws, lambda_context):
    # Given a customer known by phone and by business-scoped user id
    from engage import wiring
    from engage.customers import resolve_customer
    from engage.timeutil import parse_iso
    from functions.api import app

    customer, created = resolve_customer(
        wiring.customers(),
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

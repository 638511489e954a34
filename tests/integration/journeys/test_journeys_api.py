"""/v1/journeys on moto through the api handler: CRUD, versions, enable/disable, stats, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import load_event
from tests.helpers.events import http_event

CART = {
    "name": "Cart rescue",
    "trigger": {"type": "event", "event": "cart_abandoned"},
    "start": "remind",
    "steps": {"remind": {"type": "send", "template": "cart_reminder"}},
}


@pytest.fixture
def api(aws: Any, lambda_context: Any) -> Any:
    from functions.api import app

    def call(method: str, path: str, body: Any = None, groups: str | None = "marketer") -> tuple[int, Any]:
        response = app.lambda_handler(http_event(method, path, body=body, groups=groups), lambda_context)
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return call


def test_the_sample_event_creates_a_disabled_journey_with_its_summary(aws: Any, lambda_context: Any) -> None:
    from functions.api import app

    response = app.lambda_handler(load_event("api/create_journey"), lambda_context)
    assert response["statusCode"] == 201
    body = json.loads(response["body"])
    assert (body["id"], body["version"], body["enabled"]) == ("cart-rescue", 1, False)
    assert body["summary"].splitlines()[0] == "Cart rescue: when a customer's cart abandoned event arrives."


def test_journey_lifecycle(api: Any) -> None:
    status, created = api("POST", "/v1/journeys", CART | {"id": "cart"})
    assert status == 201 and created["version"] == 1
    assert api("POST", "/v1/journeys", CART | {"id": "cart"})[0] == 409
    changed = CART | {"steps": {"remind": {"type": "send", "template": "cart_reminder_v2"}}}
    status, updated = api("PUT", "/v1/journeys/cart", changed)
    assert status == 200 and updated["version"] == 2
    status, enabled = api("POST", "/v1/journeys/cart/enable")
    assert status == 200 and enabled["enabled"] is True and enabled["version"] == 2
    status, listed = api("GET", "/v1/journeys")
    assert [j["id"] for j in listed["journeys"]] == ["cart"]
    status, stats = api("GET", "/v1/journeys/cart/stats")
    assert status == 200 and stats["entered"] == 0 and stats["conversion_rate"] == 0.0
    assert api("POST", "/v1/journeys/cart/disable")[1]["enabled"] is False
    assert api("DELETE", "/v1/journeys/cart")[0] == 204
    assert api("GET", "/v1/journeys/cart")[1]["error"]["code"] == "journey_not_found"
    assert api("DELETE", "/v1/journeys/cart")[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        CART | {"id": "Bad Id"},
        CART | {"id": "x", "start": "nowhere"},
        CART | {"id": "x", "steps": {"remind": {"type": "send"}}},
        CART | {"id": "x", "trigger": {"type": "event", "event": "made_up"}},
        CART | {"id": "x", "steps": {"remind": {"type": "wait", "minutes": "5", "next": "remind"}}},
        CART | {"id": "x", "colour": "red"},
    ],
)
def test_a_bad_journey_is_a_422_and_writes_nothing(api: Any, body: dict[str, Any]) -> None:
    status, answer = api("POST", "/v1/journeys", body)
    assert (status, answer["error"]["code"]) == (422, "validation_error")
    assert api("GET", "/v1/journeys")[1]["journeys"] == []


def test_journeys_need_a_marketer(api: Any) -> None:
    assert api("GET", "/v1/journeys", groups=None)[0] == 401
    assert api("GET", "/v1/journeys", groups="viewer")[0] == 403

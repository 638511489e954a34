"""What every route does before its body is read, through the api handler on moto: the role first
(401/403 whatever the body), then the body (JSON, UTF-8, encodable text) as a 4xx in our error shape."""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeLambdaContext
from tests.helpers.events import http_event

FUZZ = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
OPEN_ROUTES = {
    "GET /docs",
    "POST /v1/events",
    "GET /v1/coupons/<code>",
    "GET /openapi.json",
    "GET /v1/openapi.json",
    "GET /r/<code>",
    "HEAD /r/<code>",
}


def send(event: dict) -> tuple[int, dict]:
    from functions.api import app

    response = app.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"] or "{}")


def customers() -> list:
    from engage import wiring

    return list(wiring.customers.repository().all())


def assert_error(status: int, body: dict, expected_status: int, code: str | None = None) -> None:
    assert status == expected_status, body
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def routes() -> list[tuple[str, str, str | None]]:
    """(method, path with its parameters filled, declared role) for every route of the API."""
    from engage.http import auth
    from engage.http.resolver import _ROLE_CHECKS, route_role
    from functions.api.app import app

    names = {check: dependency.__name__ for dependency, check in _ROLE_CHECKS.items()}
    assert set(names.values()) == {auth.marketer.__name__, auth.admin.__name__}
    found = []
    for route in app._static_routes + app._dynamic_routes:
        role = route_role(route.func)
        found.append((route.method, route.path, names.get(role) if role else None))
    return found


def test_every_route_but_the_open_ones_declares_a_role():
    assert {f"{m} {p}" for m, p, role in routes() if role is None} == OPEN_ROUTES


ROLE_ROUTES = [(m, p, role) for m, p, role in routes() if role]
ADMIN_ROUTES = [(m, p, role) for m, p, role in ROLE_ROUTES if role == "admin"]


def fill(path: str) -> str:
    return re.sub(r"<[^>]+>", "x", path)


@pytest.mark.parametrize("raw", ['{"bogus": 1}', "not json", "[[[[[[", ""])
@pytest.mark.parametrize(("method", "path", "role"), ROLE_ROUTES, ids=[f"{m} {p}" for m, p, _ in ROLE_ROUTES])
def test_no_groups_is_a_401_before_the_body_is_read(aws, method, path, role, raw):
    status, body = send(http_event(method, fill(path), raw_body=raw or None))
    assert_error(status, body, 401, "unauthorized")


@pytest.mark.parametrize("raw", ['{"bogus": 1}', "not json", None])
@pytest.mark.parametrize(("method", "path", "role"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p, _ in ADMIN_ROUTES])
def test_a_marketer_on_an_admin_route_is_a_403_not_a_422(aws, method, path, role, raw):
    status, body = send(http_event(method, fill(path), raw_body=raw, groups="marketer"))
    assert_error(status, body, 403, "forbidden")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data",  # no boundary
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/json; charset=latin-1",
        ";;;",
    ],
)
def test_unsupported_content_types_are_a_415_in_the_error_shape(aws, content_type):
    event = http_event(
        "POST",
        "/v1/customers",
        body={"phone": "+4915123456789"},
        groups="marketer",
        headers={"content-type": content_type},
    )
    assert_error(*send(event), 415, "unsupported_media_type")
    assert customers() == []


def test_json_with_a_charset_is_accepted(aws):
    event = http_event(
        "POST",
        "/v1/customers",
        body={"phone": "+4915123456789"},
        groups="marketer",
        headers={"content-type": "application/json; charset=UTF-8"},
    )
    assert send(event)[0] == 201


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (base64.b64encode(b'{"phone": "+4915123456789", "name": "\xff\xfe"}').decode(), "invalid_body"),
        ("not-base64!!", "invalid_body"),
    ],
)
def test_bytes_that_are_not_utf8_are_a_400(aws, raw, code):
    event = http_event("POST", "/v1/customers", groups="marketer")
    event["body"], event["isBase64Encoded"] = raw, True
    assert_error(*send(event), 400, code)
    assert customers() == []


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "invalid_json"),
        ("phone=+4915123456789", "invalid_json"),
        ("[" * 100_000 + "]" * 100_000, "invalid_json"),  # deeper than the parser's recursion
        ("[" * 100 + "]" * 100, "invalid_body"),  # deeper than we read
        ('{"phone": "+4915123456789", "name": "\\udb39"}', "invalid_body"),
    ],
    ids=["truncated", "form", "very deep", "deep", "lone surrogate"],
)
def test_bodies_we_cannot_read_are_a_400(aws, raw, code):
    assert_error(*send(http_event("POST", "/v1/customers", raw_body=raw, groups="marketer")), 400, code)
    assert customers() == []


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "+4915123456789", "marketing_consent": "yes"},
        {"phone": "+4915123456789", "marketing_consent": "true"},
        {"phone": "+4915123456789", "marketing_consent": 1},
        {"phone": 4915123456789},
        {"phone": "+4915123456789", "name": 42},
    ],
)
def test_types_are_strict_and_nothing_is_coerced(aws, body):
    assert_error(*send(http_event("POST", "/v1/customers", body=body, groups="marketer")), 422, "validation_error")
    assert customers() == []


def test_consent_and_tag_bodies_are_strict_too(aws):
    send(http_event("POST", "/v1/customers", body={"phone": "+4915123456789"}, groups="marketer"))
    event = http_event("PUT", "/v1/customers/4915123456789/consent", body={"marketing": "true"}, groups="marketer")
    assert_error(*send(event), 422, "validation_error")
    assert customers()[0].consent.marketing is False
    event = http_event(
        "POST", "/v1/tags/bulk", body={"filter": {"customers": ["x"]}, "dry_run": "yes"}, groups="marketer"
    )
    assert_error(*send(event), 422, "validation_error")


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_a_4xx_and_write_nothing(aws, raw):
    event = http_event("POST", "/v1/customers", groups="marketer")
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    status, body = send(event)
    assert 400 <= status < 500, body
    assert body["error"]["code"] and customers() == []


@FUZZ
@given(
    raw=st.text(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=30,
    ).map(json.dumps),
    content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]) | st.text(max_size=30),
    path=st.sampled_from(["/v1/customers", "/v1/tags/bulk", "/v1/segments/preview", "/v1/customers/x/tags"]),
)
def test_any_body_and_content_type_is_never_a_5xx(aws, raw, content_type, path):
    event = http_event("POST", path, raw_body=raw, groups="marketer", headers={"content-type": content_type})
    status, body = send(event)
    assert status < 500, body
    if status >= 400:
        assert set(body) == {"error"} and body["error"]["code"]

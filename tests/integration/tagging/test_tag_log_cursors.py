"""GET /v1/tags/log pages through the api handler on moto: the cursors it hands out work, and any
other cursor (forged, garbled, from another listing) is a 400 `invalid_cursor`, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeLambdaContext
from tests.helpers.events import http_event


def send(method: str, path: str, *, body=None, query=None, groups="marketer") -> tuple[int, dict]:
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, query=query, groups=groups), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def tagged(aws):
    """Three customers hand-tagged `interest:yoga`: three log entries."""
    send("POST", "/v1/tags", body={"name": "interest:yoga"}, groups="admin")
    for n in range(3):
        phone = f"+49151234567{n}{n}"
        send("POST", "/v1/customers", body={"phone": phone})
        status, _ = send("POST", f"/v1/customers/{phone.lstrip('+')}/tags", body={"tag": "interest:yoga"})
        assert status == 201
    return aws


def pages(query: dict) -> list[dict]:
    entries, cursor = [], None
    for _ in range(10):
        status, body = send(
            "GET", "/v1/tags/log", query={**query, "limit": "1", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200, body
        entries += body["entries"]
        cursor = body["cursor"]
        if not cursor:
            break
    return entries


def test_the_cursors_handed_out_page_through_the_whole_log(tagged):
    entries = pages({"tag": "interest:yoga"})
    assert len([e for e in entries if e["change"] == "added"]) == 3


def issued_cursor(query: dict) -> str:
    status, body = send("GET", "/v1/tags/log", query={**query, "limit": "1"})
    assert status == 200 and body["cursor"]
    return body["cursor"]


def assert_invalid_cursor(query: dict) -> None:
    status, body = send("GET", "/v1/tags/log", query=query)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_cursor"


def test_a_forged_cursor_is_a_400(tagged):
    inner = base64.urlsafe_b64encode(json.dumps({"d": "2026-11-30", "k": {"pk": "X", "sk": "Y"}}).encode()).decode()
    assert_invalid_cursor({"cursor": inner})
    assert_invalid_cursor({"cursor": inner + ".AAAAAAAAAAAAAAAAAAAAAA"})


def test_a_tampered_or_truncated_cursor_is_a_400(tagged):
    cursor = issued_cursor({"tag": "interest:yoga"})
    flipped = cursor[:3] + ("A" if cursor[3] != "A" else "B") + cursor[4:]
    for bad in (flipped, cursor[:-1], cursor[: len(cursor) // 2], cursor + "x"):
        assert_invalid_cursor({"tag": "interest:yoga", "cursor": bad})


def test_a_cursor_from_another_listing_is_a_400(tagged):
    cursor = issued_cursor({"tag": "interest:yoga"})
    assert_invalid_cursor({"cursor": cursor})  # the same log without the tag filter
    assert_invalid_cursor({"customer": "4915123456700", "cursor": cursor})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cursor=st.text(min_size=1, max_size=200)
    | st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode())
    | st.builds(
        lambda value, sig: base64.urlsafe_b64encode(json.dumps(value).encode()).decode() + sig,
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10), lambda i: st.dictionaries(st.text(max_size=3), i)
        ),
        st.sampled_from(["", ".", ".AAAAAAAAAAAAAAAAAAAAAA"]),
    )
)
def test_any_other_cursor_is_a_400_invalid_cursor(aws, cursor):
    assert_invalid_cursor({"cursor": cursor.replace("&", "").replace("=", "") or "x"})

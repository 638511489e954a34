"""Customer attributes through the api handler on moto: POST /v1/customers and `customer_upserted`
shop events accept what DynamoDB can store and refuse the rest with a 4xx, writing nothing."""

from __future__ import annotations

import json
from decimal import Context, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EVENTS_WEBHOOK_SECRET, FakeLambdaContext
from tests.helpers.events import http_event

PHONE = "+49 151 2345 6789"
WA_ID = "4915123456789"
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def send(event: dict) -> tuple[int, dict]:
    from functions.api import app

    response = app.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def upsert(raw: str) -> tuple[int, dict]:
    return send(http_event("POST", "/v1/customers", raw_body=raw, groups="marketer"))


def with_attributes(raw_attributes: str, extra: str = "") -> str:
    """A POST /v1/customers body around attributes written as raw JSON."""
    return '{"phone": "' + PHONE + '", ' + extra + '"attributes": ' + raw_attributes + "}"


def shop_event(raw_attributes: str, event_id: str = "cu-1") -> tuple[int, dict]:
    from engage.inbound.shop_events import signature

    raw = (
        '{"id": "' + event_id + '", "type": "customer_upserted", "customer": {"phone": "' + PHONE + '"}, '
        '"data": {"attributes": ' + raw_attributes + "}}"
    )
    headers = {"x-engage-signature": signature(EVENTS_WEBHOOK_SECRET, raw.encode())}
    return send(http_event("POST", "/v1/events", raw_body=raw, headers=headers))


def stored() -> dict[str, Any] | None:
    from engage import wiring

    store = wiring.customers.repository()
    customer_id = store.find_id(wa_id=WA_ID)
    customer = store.get(customer_id) if customer_id else None
    return customer.attributes if customer else None


def as_stored(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Numbers compared by decimal value: DynamoDB keeps 1e125 as a number, it reads back as an int."""
    if values is None:
        return None
    return {
        k: Decimal(str(v)).normalize(Context(prec=40)) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in values.items()
    }


def assert_refused(status: int, body: dict) -> None:
    assert 400 <= status < 500, body
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]


# The reported inputs, each written as raw JSON exactly as a client sent it.
REFUSED = {
    "empty key": '{"": "x"}',
    "key with spaces": '{"shoe size": 42}',
    "key too long": json.dumps({"k" * 65: 1}),
    "overflowing number": '{"n": 1e400}',
    "denormal number": '{"n": 5e-324}',
    "number past DynamoDB's range": '{"n": 1e130}',
    "tiny number": '{"n": 1e-131}',
    "39 significant digits": '{"n": 123456789012345678901234567890123456789}',
    "NaN": '{"n": NaN}',
    "Infinity": '{"n": -Infinity}',
    "lone surrogate": '{"s": "\\udb39"}',
    "lone surrogate in a key": '{"\\ud800x": 1}',
    "1 MB string": json.dumps({"s": "x" * 1_000_000}),
    "nested object": '{"o": {"a": 1}}',
    "list": '{"l": [1, 2]}',
    "null": '{"z": null}',
    "too many": json.dumps({f"k{i}": i for i in range(51)}),
    "too big in total": json.dumps({f"k{i}": "x" * 999 for i in range(20)}),
}


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_unstorable_attributes_are_refused_and_nothing_is_written(aws, raw):
    status, body = upsert(with_attributes(raw, '"marketing_consent": true, '))
    assert_refused(status, body)
    assert stored() is None  # no profile, no consent
    status, body = shop_event(raw)
    assert_refused(status, body)
    assert stored() is None


def test_after_a_refusal_the_customer_and_previews_still_read(aws):
    assert upsert(with_attributes('{"tier": "gold"}'))[0] == 201
    assert_refused(*upsert(with_attributes('{"": "x", "n": 1e400}')))
    status, customer = send(http_event("GET", f"/v1/customers/{WA_ID}", groups="marketer"))
    assert status == 200 and customer["attributes"] == {"tier": "gold"}


def test_storable_edge_values_round_trip(aws):
    edges = {
        "big": 9.99999999999999e125,
        "small": 1e-130,
        "negative": -1e-130,
        "zero": 0,
        "digits38": 12345678901234567890123456789012345678,
        "flag": False,
        "text": "ü€😀" * 250,
        "dotted.key-1_a": "x",
    }
    status, body = upsert(json.dumps({"phone": PHONE, "attributes": edges}))
    assert status == 201, body
    assert as_stored(body["attributes"]) == as_stored(edges)
    status, customer = send(http_event("GET", f"/v1/customers/{WA_ID}", groups="marketer"))
    assert as_stored(customer["attributes"]) == as_stored(edges)


def test_merged_attributes_stay_within_the_bound(aws):
    assert upsert(json.dumps({"phone": PHONE, "attributes": {f"a{i}": i for i in range(50)}}))[0] == 201
    status, body = upsert(json.dumps({"phone": PHONE, "attributes": {"one_more": 1}}))
    assert status == 422 and body["error"]["code"] == "too_many_attributes"
    assert_refused(*shop_event(json.dumps({"one_more": 1})))
    assert len(stored() or {}) == 50


keys = st.text(max_size=70) | st.from_regex(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}", fullmatch=True)
scalars = (
    st.floats()
    | st.integers(min_value=-(10**130), max_value=10**130)
    | st.text(max_size=1_100)
    | st.booleans()
    | st.none()
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner))


@FUZZ
@given(attributes=st.dictionaries(keys, values, max_size=6), through=st.sampled_from(["api", "shop"]))
def test_any_attributes_are_stored_exactly_or_refused_with_nothing_changed(aws, attributes, through):
    before = stored()
    raw = json.dumps(attributes)  # NaN/Infinity and lone surrogates (as \\u escapes) included
    if through == "api":
        status, body = upsert(with_attributes(raw))
    else:
        status, body = shop_event(raw, event_id=f"cu-{abs(hash(raw))}")
    assert status < 500, body
    if status >= 400:
        assert_refused(status, body)
        assert stored() == before
    else:
        assert as_stored(stored()) == as_stored({**(before or {}), **attributes})

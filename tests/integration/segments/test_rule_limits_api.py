"""Preview and save through the api handler on moto: any rule a client sends is an answer or a 4xx in
our error shape, never a 500; a refused save stores nothing."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.core.time import parse_iso
from tests.helpers.events import http_event
from tests.helpers.segments import base_items, random_base
from tests.unit.segments.test_rule_limits import chain, json_trees, nested, texts

NOW = parse_iso("2026-11-23T10:00:00Z")


@pytest.fixture
def api(aws, lambda_context):
    from engage import wiring
    from functions.api import app

    wiring.aws.table().batch_put(base_items(random_base(random.Random(7), 30, NOW)))

    def call(method, path, body=None):
        raw = body if isinstance(body, str) or body is None else json.dumps(body)  # NaN as Python writes it
        response = app.lambda_handler(http_event(method, path, raw_body=raw, groups="marketer"), lambda_context)
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return call


def nested_text(depth: int) -> str:
    """`nested(depth)` as JSON text, written without recursion (json.dumps stops near 1,000 levels)."""
    return '{"all": [' * depth + '{"tag": "rfm:vip"}' + ', {"tag": "interest:shoes"}]}' * depth


def assert_answer_or_refusal(status: int, body: dict) -> None:
    assert status < 500, body
    if status >= 400:
        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
    else:
        json.dumps(body, allow_nan=False)  # no NaN or Infinity, so never a `null` count or amount


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ("(" * 300 + "tag:rfm:vip" + ")" * 300, {"offset": 60}),
        ("NOT " * 1000 + "tag:rfm:vip", {"offset": 4000}),
        ("last_order < 999999999d", {"offset": 13}),
        ("total_spent >= 1e400", {"offset": 15}),
        ("total_spent >= nan", {"offset": 15}),
        (nested(30), {"path": "$" + ".all[0]" * 20}),
        ({"total_spent": {"at_least": math.inf}}, {"path": "$.total_spent.at_least"}),
        ({"total_spent": {"at_least": math.nan}}, {"path": "$.total_spent.at_least"}),
    ],
)
def test_the_reported_rules_are_refused_with_where_and_nothing_saved(api, rule, where):
    for path, body in (("/v1/segments/preview", {"rule": rule}), ("/v1/segments", {"name": "x", "rule": rule})):
        status, answer = api("POST", path, body)
        assert (status, answer["error"]["code"]) == (400, "invalid_rule")
        assert {k: answer["error"]["details"][k] for k in where} == where
    assert api("GET", "/v1/segments")[1]["segments"] == []


@pytest.mark.parametrize("depth", [21, 60, 400, 1000, 5000])
def test_json_nested_beyond_any_parser_is_refused(api, depth):
    for path, body in (("/v1/segments/preview", '{"rule": %s}'), ("/v1/segments", '{"name": "x", "rule": %s}')):
        status, answer = api("POST", path, body % nested_text(depth))
        assert_answer_or_refusal(status, answer)
        assert status in (400, 422)


def test_a_rule_at_the_limits_previews_and_saves(api):
    rule = "last_order < 36500d AND (rfm:vip OR orders >= 1000000 in 36500d OR total_spent >= 999999999999999)"
    status, body = api("POST", "/v1/segments/preview", {"rule": rule})
    assert status == 200 and body["rule"]["all"][0] == {"last_order": {"within_days": 36500}}
    status, saved = api("POST", "/v1/segments", {"name": "edge", "rule": rule})
    assert status == 201 and saved["text"] == body["text"]


rules = st.one_of(texts, json_trees, st.builds(chain, st.integers(0, 600), st.sampled_from(["all", "any", "none"])))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=rules, save=st.booleans())
def test_any_rule_previewed_or_saved_is_an_answer_or_a_4xx(api, rule, save):
    if save:
        status, body = api("POST", "/v1/segments", {"name": f"s{random.random()}", "rule": rule})
    else:
        status, body = api("POST", "/v1/segments/preview", {"rule": rule})
    assert_answer_or_refusal(status, body)

"""Rule limits: any text or JSON a client sends is a rule or an `invalid_rule` refusal, never an exception.

Depth, length, names, day counts, order counts and amounts are bounded in both forms (docs/segments.md),
and a refusal says where: the character offset for text, the JSON path for JSON.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.core.errors import Invalid
from engage.segments.rule_tree import (
    MAX_DAYS,
    MAX_DEPTH,
    MAX_LEAVES,
    MAX_TEXT,
    MAX_TEXT_NESTING,
    depth_of,
    leaves,
    to_json,
)
from engage.segments.service import parse_rule
from engage.segments.text import to_text
from engage.segments.validation import validate
from tests.helpers.segments import VOCABULARY

KNOWN = set(VOCABULARY)


def outcome(raw) -> str:
    """'ok' or the refusal's detail code; anything but Invalid fails the test."""
    try:
        node = parse_rule(raw)
        validate(node, KNOWN)
    except Invalid as error:
        assert error.code == "invalid_rule"
        assert "offset" in error.details or "path" in error.details
        return error.details.get("code", "invalid_rule")
    assert depth_of(node)[0] <= MAX_DEPTH and len(leaves(node)) <= MAX_LEAVES
    data = to_json(node)
    json.dumps(data, allow_nan=False)  # every number in an accepted rule is finite
    assert parse_rule(data) == node and parse_rule(to_text(node)) == node
    return "ok"


# ---------------------------------------------------------------- the reported inputs


@pytest.mark.parametrize(
    ("text", "code", "offset"),
    [
        ("(" * 300 + "tag:rfm:vip" + ")" * 300, "too_deep", MAX_TEXT_NESTING),
        ("NOT " * 1000 + "tag:rfm:vip", "too_long", MAX_TEXT),
        ("NOT " * 500 + "tag:rfm:vip", "too_deep", 4 * MAX_TEXT_NESTING),
        ("NOT " * (MAX_DEPTH + 1) + "tag:rfm:vip", "too_deep", 4 * MAX_DEPTH),
        ("last_order < 999999999d", "bad_value", 13),
        ("last_order < 99999999999999999999999999d", "bad_value", 13),
        (f"first_order > {MAX_DAYS + 1}d", "bad_value", 14),
        ("total_spent >= 1e400", "bad_value", 15),
        ("total_spent >= nan", "bad_value", 15),
        ("total_spent >= inf", "bad_value", 15),
        ("total_spent <= 1_000", "bad_value", 15),
        ("orders >= 99999999999", "bad_value", 10),
        ("orders >= 2 in 0d", "bad_value", 15),
        ("tag:" + "a" * 300, "bad_value", 0),
        (" OR ".join(["tag:rfm:vip"] * (MAX_LEAVES + 1)), "too_long", 15 * MAX_LEAVES),
    ],
)
def test_text_beyond_the_limits_is_refused_where_it_happens(text, code, offset):
    with pytest.raises(Invalid) as refused:
        parse_rule(text)
    assert (refused.value.details["code"], refused.value.details["offset"]) == (code, offset)


def nested(depth: int) -> dict:
    rule: dict = {"tag": "rfm:vip"}
    for _ in range(depth):
        rule = {"all": [rule, {"tag": "interest:shoes"}]}
    return rule


@pytest.mark.parametrize(
    ("data", "code", "path"),
    [
        (nested(1000), "too_deep", "$" + ".all[0]" * MAX_DEPTH),
        (nested(MAX_DEPTH + 1), "too_deep", "$" + ".all[0]" * MAX_DEPTH),
        ({"any": [{"tag": "rfm:vip"}] * (MAX_LEAVES + 1)}, "too_long", "$.any"),
        ({"last_order": {"within_days": 999999999}}, "bad_value", "$.last_order.within_days"),
        ({"orders": {"at_least": 1, "within_days": 10**40}}, "bad_value", "$.orders.within_days"),
        ({"orders": {"at_least": 10**40}}, "bad_value", "$.orders.at_least"),
        ({"total_spent": {"at_least": math.inf}}, "bad_value", "$.total_spent.at_least"),
        ({"total_spent": {"at_most": math.nan}}, "bad_value", "$.total_spent.at_most"),
        ({"total_spent": {"at_least": -math.inf}}, "bad_value", "$.total_spent.at_least"),
        ({"tag": "a" * 300}, "bad_value", "$.tag"),
    ],
)
def test_json_beyond_the_limits_is_refused_with_its_path(data, code, path):
    with pytest.raises(Invalid) as refused:
        parse_rule(data)
    assert (refused.value.details["code"], refused.value.details["path"]) == (code, path)


def test_the_limits_themselves_are_accepted():
    assert outcome(nested(MAX_DEPTH - 1)) == "ok"  # MAX_DEPTH groups, counting the outermost
    assert outcome({"any": [{"tag": "rfm:vip"}] * MAX_LEAVES}) == "ok"
    assert outcome(f"last_order < {MAX_DAYS}d AND orders >= 1000000 in {MAX_DAYS}d") == "ok"
    assert outcome("total_spent >= 999999999999999") == "ok"
    assert outcome("NOT " * MAX_DEPTH + "tag:rfm:vip") == "ok"
    long_but_fine = " OR ".join(["tag:rfm:vip"] * MAX_LEAVES)
    assert len(long_but_fine) < MAX_TEXT and outcome(long_but_fine) == "ok"


# ---------------------------------------------------------------- generated inputs

WORDS = st.sampled_from(
    ["AND", "OR", "NOT", "and", "not", "(", ")", "(", ")", "tag:rfm:vip", "rfm:vip", "interest:shoes",
     "tag:bought:*", "last_order", "first_order", "orders", "total_spent", "<", ">", ">=", "<=", "in",
     "country:DE", "consent:marketing", "lifecycle:new", "90d", "0d", "36500d", "36501d", "999999999d",
     "1e400", "nan", "inf", "-1", "49.90", "1e15", "2", "99999999999999999999999", "1_000", "\u0663",
     "\udb39", "\x00", "é", "*", ":", "tag:"]
)  # fmt: skip
texts = st.one_of(
    st.lists(WORDS, max_size=60).map(" ".join),
    st.text(max_size=200),
    st.tuples(st.integers(0, 400), st.sampled_from(["(", "NOT ", "NOT ("])).map(lambda p: p[1] * p[0] + "rfm:vip"),
)

numbers = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 36500, 36501, 10**6, 10**6 + 1, 1e15, 1e400]),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
)
json_leaves = st.one_of(
    st.sampled_from(VOCABULARY).map(lambda t: {"tag": t}),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["tag", "tag_prefix", "country", "rfm"]), st.text(max_size=300)),
    st.builds(
        lambda f, k, n: {f: {k: n}},
        st.sampled_from(["last_order", "first_order", "last_interaction"]),
        st.sampled_from(["within_days", "older_than_days", "bogus"]),
        numbers,
    ),
    st.builds(
        lambda k, n, w: {"orders": {k: n, "within_days": w}}, st.sampled_from(["at_least", "at_most"]), numbers, numbers
    ),
    st.builds(lambda k, n: {"total_spent": {k: n}}, st.sampled_from(["at_least", "at_most"]), numbers),
    st.dictionaries(st.text(max_size=8), st.none(), max_size=2),
)  # fmt: skip
json_trees = st.recursive(
    json_leaves,
    lambda children: st.builds(
        lambda op, kids: {op: kids}, st.sampled_from(["all", "any", "none", "nor"]), st.lists(children, max_size=4)
    ),
    max_leaves=40,
)


def chain(depth: int, op: str) -> dict:
    rule: dict = {"tag": "rfm:vip"}
    for _ in range(depth):
        rule = {op: [rule]}
    return rule


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_is_a_rule_or_a_refusal(text):
    outcome(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_trees, st.builds(chain, st.integers(0, 1500), st.sampled_from(["all", "any", "none"]))))
def test_any_json_tree_is_a_rule_or_a_refusal(data):
    outcome(data)

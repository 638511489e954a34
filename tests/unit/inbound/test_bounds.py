"""What the webhook stores is bounded and storable, whatever the body (engage.inbound.bounds)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engage.inbound import bounds

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
ANY_TEXT = st.lists(st.one_of(st.characters(), SURROGATES), max_size=30).map("".join)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), ANY_TEXT),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(ANY_TEXT, children, max_size=4)),
    max_leaves=30,
)


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def leaves(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES, wrap=st.integers(0, 60))
def test_any_json_loads_storable_and_no_deeper_than_the_bound(value, wrap):
    body = json.dumps({"object": "x", "v": value}).encode()
    body = b'{"a":' * wrap + body + b"}" * wrap
    loaded = bounds.load(body)
    assert depth(loaded.document) <= bounds.MAX_DEPTH
    for leaf in leaves(loaded.document):
        if isinstance(leaf, str):
            leaf.encode("utf-8")  # no lone surrogate left
        elif isinstance(leaf, float):
            assert math.isfinite(leaf) and bounds.storable_number(leaf)
        elif isinstance(leaf, int) and not isinstance(leaf, bool):
            assert abs(leaf) < 10**38


def test_nesting_far_beyond_the_parser_is_pruned_without_recursing():
    deep = b"[" * 200_000 + b"]" * 200_000
    loaded = bounds.load(b'{"keep": "me", "deep": ' + deep + b"}")
    assert loaded.document["keep"] == "me" and loaded.changed
    assert depth(loaded.document) == bounds.MAX_DEPTH


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"t": "[[[[{{{{" * 100 + '\\"]]'})
    assert bounds.prune_depth(text, 2) is text


def test_an_untouched_body_is_not_marked_changed():
    assert not bounds.load(b'{"object": "whatsapp_business_account", "n": 1.5, "t": "caf\\u00e9"}').changed


@given(text=st.text(min_size=0, max_size=9000), name=st.text(max_size=600))
def test_history_data_is_cut_to_its_bounds_and_flagged(text, name):
    data = bounds.bound_data({"type": "text", "text": text, "name": name})
    assert len(data.get("text", "")) <= bounds.MAX_TEXT and len(data.get("name", "")) <= bounds.MAX_NAME
    assert data.get("truncated", False) == (len(text) > bounds.MAX_TEXT or len(name) > bounds.MAX_NAME)


def test_a_huge_unknown_payload_is_dropped_before_the_item_gets_too_big():
    data = bounds.bound_data({"type": "poll", "wa_id": "4915123456789", "raw": {str(i): "x" * 4000 for i in range(90)}})
    assert "raw" not in data and data["truncated"] is True and data["wa_id"] == "4915123456789"

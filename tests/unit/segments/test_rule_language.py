"""The rule language: text <-> JSON round trips, precedence, and refusals with positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from engage.core.errors import Invalid
from engage.segments.rule_tree import from_json, to_json
from engage.segments.service import parse_rule
from engage.segments.text import from_text, to_text
from engage.segments.validation import validate
from tests.helpers.segments import VOCABULARY, rules

PLAYBOOK = "tag:interest:cosmetics AND tag:stage:purchased AND NOT tag:product:lipstick AND last_order < 90d"


@settings(max_examples=300, deadline=None)
@given(rules)
def test_json_to_text_to_json_is_exact(rule):
    data = to_json(rule)
    assert from_json(data) == rule
    text = to_text(rule)
    assert to_json(from_text(text)) == data
    assert to_text(from_text(text)) == text


def test_playbook_example_reads_as_expected():
    rule = from_text(PLAYBOOK)
    assert to_json(rule) == {
        "all": [
            {"tag": "interest:cosmetics"},
            {"tag": "stage:purchased"},
            {"none": [{"tag": "product:lipstick"}]},
            {"last_order": {"within_days": 90}},
        ]
    }
    assert to_text(rule) == PLAYBOOK


def test_bare_tag_names_and_lower_case_keywords_give_the_canonical_text():
    rule = from_text("interest:cosmetics and stage:purchased and not product:lipstick")
    assert to_text(rule) == "tag:interest:cosmetics AND tag:stage:purchased AND NOT tag:product:lipstick"


@pytest.mark.parametrize(
    ("text", "json"),
    [
        ("a:x OR b:x AND c:x", {"any": [{"tag": "a:x"}, {"all": [{"tag": "b:x"}, {"tag": "c:x"}]}]}),
        ("(a:x OR b:x) AND c:x", {"all": [{"any": [{"tag": "a:x"}, {"tag": "b:x"}]}, {"tag": "c:x"}]}),
        ("NOT a:x AND b:x", {"all": [{"none": [{"tag": "a:x"}]}, {"tag": "b:x"}]}),
        ("NOT (a:x OR b:x)", {"none": [{"tag": "a:x"}, {"tag": "b:x"}]}),
        ("NOT (a:x AND b:x)", {"none": [{"all": [{"tag": "a:x"}, {"tag": "b:x"}]}]}),
        ("tag:bought:2026-*", {"tag_prefix": "bought:2026-"}),
        ("orders >= 2 in 30d", {"orders": {"at_least": 2, "within_days": 30}}),
        ("total_spent >= 199", {"total_spent": {"at_least": 199}}),
        ("last_interaction > 90d", {"last_interaction": {"older_than_days": 90}}),
        ("lifecycle:new AND rfm:vip", {"all": [{"lifecycle": "new"}, {"rfm": "vip"}]}),
        ("consent:marketing AND country:DE", {"all": [{"consent": "marketing"}, {"country": "DE"}]}),
    ],
)
def test_precedence_not_and_or_and_leaf_forms(text, json):
    assert to_json(from_text(text)) == json
    assert to_json(from_text(to_text(from_json(json)))) == json


@pytest.mark.parametrize(
    ("text", "offset", "code"),
    [
        ("tag:a:b AND", 11, "syntax"),
        ("tag:a:b AND (tag:c:d OR tag:e:f", 31, "syntax"),
        ("tag:a:b AND last_purchase < 90d", 12, "unknown_attribute"),
        ("last_order < 90", 13, "bad_value"),
        ("orders >= 1.5", 10, "bad_value"),
        ("tag:a:b & tag:c:d", 8, "syntax"),
        ("", 0, "empty_rule"),
    ],
)
def test_text_errors_give_the_character_offset(text, offset, code):
    with pytest.raises(Invalid) as caught:
        from_text(text)
    assert caught.value.code == "invalid_rule"
    assert caught.value.details["offset"] == offset
    assert caught.value.details["code"] == code


def test_unknown_attribute_suggests_the_closest_one():
    with pytest.raises(Invalid) as caught:
        from_text("last_purchase < 90d")
    assert caught.value.details["suggestions"] == ["last_order"]


@pytest.mark.parametrize(
    ("data", "path", "code"),
    [
        ({"all": []}, "$.all", "empty_group"),
        ({"all": [{"tag": "a:b"}, {"any": []}]}, "$.all[1].any", "empty_group"),
        ({"all": [{"tag": "a:b"}, {"last_purchase": {"within_days": 3}}]}, "$.all[1]", "unknown_attribute"),
        ({"none": [{"orders": {"at_least": -1}}]}, "$.none[0].orders.at_least", "bad_value"),
        ({"last_order": {"within_days": 3, "older_than_days": 5}}, "$.last_order", "bad_value"),
        ({"tag": "has space"}, "$.tag", "bad_value"),
        ({"tag": "a:b", "any": []}, "$", "bad_node"),
    ],
)
def test_json_errors_give_the_json_path(data, path, code):
    with pytest.raises(Invalid) as caught:
        from_json(data)
    assert caught.value.details["path"] == path
    assert caught.value.details["code"] == code


def test_unknown_tag_is_refused_with_the_closest_names_and_its_offset():
    rule = from_text("tag:interest:cosmetic AND tag:stage:purchased")
    with pytest.raises(Invalid) as caught:
        validate(rule, VOCABULARY)
    problem = caught.value.details["problems"][0]
    assert (problem["code"], problem["offset"]) == ("unknown_tag", 0)
    assert problem["message"] == "unknown tag 'interest:cosmetic'"
    assert problem["suggestions"][0] == "interest:cosmetics"


def test_unknown_tag_in_json_gives_its_path():
    with pytest.raises(Invalid) as caught:
        validate(from_json({"all": [{"tag": "stage:purchased"}, {"tag": "stage:purchasd"}]}), VOCABULARY)
    assert caught.value.details["path"] == "$.all[1]"
    assert caught.value.details["suggestions"][0] == "stage:purchased"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("tag:rfm:vip AND tag:interest:shoes AND NOT tag:rfm:vip", 43),
        ("rfm:vip AND NOT tag:rfm:vip", 16),
        ("last_order < 30d AND last_order > 60d", 21),
        ("orders >= 5 AND orders <= 2", 16),
        ("total_spent >= 100 AND (total_spent <= 50 AND tag:rfm:vip)", 24),
        ("country:DE AND country:FR", 15),
        ("tag:rfm:vip AND NOT (tag:interest:shoes OR tag:rfm:vip)", 43),
    ],
)
def test_detectable_contradictions_are_refused_where_they_are(text, offset):
    with pytest.raises(Invalid) as caught:
        validate(from_text(text), VOCABULARY)
    assert caught.value.details["code"] == "contradiction"
    assert caught.value.details["offset"] == offset


@pytest.mark.parametrize(
    "text",
    [
        "last_order < 60d AND last_order > 30d",
        "orders >= 2 AND orders <= 2",
        "tag:rfm:vip OR NOT tag:rfm:vip",
        "orders >= 5 AND orders <= 2 in 30d",
        "tag:bought:2027-*",
    ],
)
def test_satisfiable_rules_pass(text):
    validate(from_text(text), VOCABULARY)


@pytest.mark.parametrize(
    ("text", "code", "hint"),
    [
        ("lifecycle:dormnt", "unknown_stage", "dormant"),
        ("rfm:vipp", "unknown_group", "vip"),
        ("country:de", "unknown_country", "DE"),
        ("consent:marketin", "unknown_kind", "marketing"),
        ("tag:colour:*", "unknown_tag", None),
    ],
)
def test_unknown_names_are_refused_with_hints(text, code, hint):
    with pytest.raises(Invalid) as caught:
        validate(from_text(text), VOCABULARY)
    assert caught.value.details["code"] == code
    if hint:
        assert hint in caught.value.details["suggestions"]


def test_a_rule_is_an_object_or_a_text():
    assert parse_rule({"tag": "a:b"}) == parse_rule("tag:a:b")
    with pytest.raises(Invalid):
        parse_rule(["tag:a:b"])


# ---------------------------------------------------------------- referral leaves


@pytest.mark.parametrize(
    ("text", "json"),
    [
        ("referred_by:K7QX2M9P", {"referred_by": "K7QX2M9P"}),
        ("referrals >= 3", {"referrals": {"at_least": 3}}),
        ("referrals <= 0", {"referrals": {"at_most": 0}}),
        (
            "referred_by:K7QX2M9P AND NOT referrals >= 1",
            {"all": [{"referred_by": "K7QX2M9P"}, {"none": [{"referrals": {"at_least": 1}}]}]},
        ),
    ],
)
def test_referral_leaves_read_print_and_round_trip_in_both_forms(text, json):
    rule = from_text(text)
    assert to_json(rule) == json
    assert from_json(json) == rule
    assert to_text(from_json(json)) == text
    validate(rule, VOCABULARY)


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("tag:rfm:vip AND referrals >= 2.5", 29, "whole number"),
        ("referrals >= 1000001", 13, "referral count"),
        ("referrals > 3", 10, ">= X"),
        ("referrals >= x", 13, "whole number"),
    ],
)
def test_bad_referral_counts_in_text_are_refused_at_their_offset(text, offset, message):
    with pytest.raises(Invalid) as caught:
        from_text(text)
    assert caught.value.details["offset"] == offset
    assert message in caught.value.details["message"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"referrals": {"at_least": -1}}, "$.referrals.at_least"),
        ({"referrals": {"at_least": True}}, "$.referrals.at_least"),
        ({"referrals": {"at_least": 1, "within_days": 30}}, "$.referrals"),
        ({"referrals": 3}, "$.referrals"),
        ({"all": [{"tag": "rfm:vip"}, {"referred_by": "K7 QX"}]}, "$.all[1].referred_by"),
    ],
)
def test_bad_referral_leaves_in_json_are_refused_at_their_path(data, path):
    with pytest.raises(Invalid) as caught:
        from_json(data)
    assert caught.value.details["path"] == path


def test_unknown_attribute_suggests_the_referral_leaves():
    with pytest.raises(Invalid) as caught:
        from_text("referals >= 3")
    assert "referrals" in caught.value.details["suggestions"]
    with pytest.raises(Invalid) as caught:
        from_json({"refered_by": "K7QX2M9P"})
    assert "referred_by" in caught.value.details["suggestions"]


def test_a_referral_code_typed_in_lower_case_is_refused_with_the_stored_spelling():
    with pytest.raises(Invalid) as caught:
        validate(from_text("tag:rfm:vip AND referred_by:k7qx2m9p"), VOCABULARY)
    assert caught.value.details["code"] == "bad_referral_code"
    assert caught.value.details["offset"] == 16
    assert caught.value.details["suggestions"] == ["K7QX2M9P"]


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("referrals >= 5 AND referrals <= 2", 19),
        ("referred_by:K7QX2M9P AND referred_by:H3TW8RZ4", 25),
        ("referred_by:K7QX2M9P AND NOT referred_by:K7QX2M9P", 29),
    ],
)
def test_referral_contradictions_are_refused_where_they_are(text, offset):
    with pytest.raises(Invalid) as caught:
        validate(from_text(text), VOCABULARY)
    assert caught.value.details["code"] == "contradiction"
    assert caught.value.details["offset"] == offset


def test_referral_bounds_that_can_both_hold_pass():
    validate(from_text("referrals >= 2 AND referrals <= 2 AND referred_by:K7QX2M9P"), VOCABULARY)

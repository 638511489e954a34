"""The evaluator's meaning at the edges, on an in-memory reader (no AWS)."""

from __future__ import annotations

from datetime import timedelta

from engage.core.time import iso, parse_iso
from engage.customers.profiles import Consent, Customer
from engage.segments.evaluator import evaluate
from engage.segments.text import from_text
from tests.fakes.segments import InMemoryAudience as Reader

NOW = parse_iso("2026-11-23T10:00:00Z")


def ago(days: float) -> str:
    return iso(NOW - timedelta(days=days))


def ids(text: str, reader: Reader, known: set[str] | None = None) -> list[str]:
    known = known if known is not None else set().union(reader.tags)
    return evaluate(from_text(text), reader, known, now=NOW).ids


def test_within_includes_exactly_n_days_and_older_excludes_it():
    edge = Customer(id="c_edge", last_order_at=ago(90))
    inside = Customer(id="c_in", last_order_at=ago(89.9))
    outside = Customer(id="c_out", last_order_at=ago(90.1))
    never = Customer(id="c_never")
    reader = Reader([edge, inside, outside, never], {})
    assert ids("last_order < 90d", reader) == ["c_edge", "c_in"]
    assert ids("last_order > 90d", reader) == ["c_out"]  # never ordered matches neither
    assert ids("orders <= 0", reader) == ["c_edge", "c_in", "c_never", "c_out"]


def test_country_comes_from_the_phone_number_when_the_profile_has_none():
    reader = Reader([Customer(id="c_1", wa_id="4915123456789"), Customer(id="c_2", country="FR")], {})
    assert ids("country:DE", reader) == ["c_1"]
    assert ids("country:FR", reader) == ["c_2"]


def test_orders_in_a_window_count_only_that_window_and_are_read_last():
    a = Customer(id="c_a", consent=Consent(marketing=True))
    b = Customer(id="c_b", consent=Consent(marketing=False))
    reader = Reader([a, b], {}, {"c_a": [ago(1), ago(20), ago(40)], "c_b": [ago(1), ago(2)]})
    assert ids("orders >= 2 in 30d AND consent:marketing", reader) == ["c_a"]
    assert "orders:c_b" not in reader.asked  # refused on consent before its history was read
    assert ids("orders >= 3 in 30d", reader) == []


def test_prefix_expands_over_known_tags_and_why_leaves_out_negated_tags():
    customers = [Customer(id=f"c_{n}") for n in range(3)]
    tags = {"bought:2026-10:lipstick": {"c_0"}, "bought:2026-11:mascara": {"c_1"}, "vip:yes": {"c_0", "c_1", "c_2"}}
    reader = Reader(customers, tags)
    audience = evaluate(from_text("tag:bought:2026-* AND NOT tag:bought:2026-11*"), reader, set(tags), now=NOW)
    assert audience.ids == ["c_0"]
    assert audience.why == {"c_0": ["bought:2026-10:lipstick"]}
    assert audience.plan["strategy"] == "index"


def test_plans_read_only_what_they_need():
    customers = [Customer(id=f"c_{n:02d}", total_spent=n) for n in range(40)]
    reader = Reader(customers, {"a:x": {"c_01", "c_02"}, "b:x": {f"c_{n:02d}" for n in range(30)}})
    assert ids("tag:a:x AND NOT tag:b:x", reader) == []
    assert reader.asked == ["tags:a:x,b:x"]
    reader.asked.clear()
    assert ids("tag:a:x AND total_spent >= 2", reader) == ["c_02"]
    assert reader.asked == ["tags:a:x", "profiles:2"]
    reader.asked.clear()
    assert len(ids("tag:b:x AND total_spent >= 2", reader)) == 28  # 30 of 40: cheaper to scan
    assert reader.asked == ["tags:b:x", "scan"]
    reader.asked.clear()
    assert len(ids("NOT tag:b:x", reader)) == 10  # the complement needs the base
    assert reader.asked == ["tags:b:x", "scan"]


def test_referred_by_matches_the_inviters_code_and_referrals_count_successful_invites():
    invitee = Customer(id="c_invitee", referred_by="K7QX2M9P")
    other = Customer(id="c_other", referred_by="H3TW8RZ4")
    inviter = Customer(id="c_inviter", referrals=3)
    starter = Customer(id="c_starter", referrals=1)
    reader = Reader([invitee, other, inviter, starter], {})
    assert ids("referred_by:K7QX2M9P", reader) == ["c_invitee"]
    assert ids("NOT referred_by:K7QX2M9P", reader) == ["c_inviter", "c_other", "c_starter"]
    assert ids("referrals >= 3", reader) == ["c_inviter"]
    assert ids("referrals >= 1", reader) == ["c_inviter", "c_starter"]
    assert ids("referrals <= 0", reader) == ["c_invitee", "c_other"]


def test_referral_leaves_read_only_the_candidates_profiles_under_a_tag():
    a = Customer(id="c_a", referrals=5)
    b = Customer(id="c_b", referrals=5)
    reader = Reader([a, b, *(Customer(id=f"c_z{n}") for n in range(50))], {"rfm:vip": {"c_a"}})
    audience = evaluate(from_text("rfm:vip AND referrals >= 5"), reader, {"rfm:vip"}, now=NOW)
    assert audience.ids == ["c_a"]
    assert audience.plan["strategy"] == "index+profiles" and audience.plan["profiles_read"] == 1

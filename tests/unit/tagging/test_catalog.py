"""Tag names (one spelling per meaning), keyword folding, and the catalog's health thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.core.errors import Invalid
from engage.core.text import fold
from engage.core.time import iso, parse_iso
from engage.tagging.catalog import TagDefinition, health_report, normalise_tag, slug
from engage.tagging.rules import contains_keyword, tokens

pytestmark = pytest.mark.disable_socket

NOW = parse_iso("2026-11-23T10:00:00Z")


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Interests: Price Sensitive", "interest:price-sensitive"),
        ("INTEREST:Discount", "interest:price-sensitive"),
        ("interest:new_arrivals", "interest:trend-follower"),
        ("Source: IG", "source:instagram"),
        ("purchasing power: Prémium", "power:premium"),
        ("stage :  Customer", "stage:purchased"),
        ("bought:2026-11:silk-scarf", "bought:2026-11:silk-scarf"),
    ],
)
def test_names_are_normalised_to_one_spelling(raw, name):
    assert normalise_tag(raw) == name


@pytest.mark.parametrize("raw", ["nodimension", "interest:", ":value", "interest:скидка", "interest:a" * 50])
def test_bad_names_are_refused_with_the_reason(raw):
    with pytest.raises(Invalid) as error:
        normalise_tag(raw)
    assert "dimension:value" in error.value.message or "not a valid name" in error.value.message


def test_slugs_are_stable_and_never_empty():
    assert slug("Red Lipstick Nº5") == "red-lipstick-no5"
    assert slug("Красная помада") == slug("Красная помада") and slug("Красная помада").startswith("x")


@pytest.mark.parametrize(
    ("text", "keyword", "found"),
    [
        ("Größe und RABATT?", "rabatt", True),
        ("welche grösse", "Größe", True),
        ("réduction possible ?", "reduction", True),
        ("İndirim var mı?", "indirim", True),
        ("Хочу СКИДКУ", "скидку", True),
        ("Ещё есть?", "еще", True),
        ("Έκπτωση;", "έκπτωση", True),
        ("wholesale", "sale", False),
        ("promo-code please", "promo code", True),
        ("promo please code", "promo code", False),
    ],
)
def test_keywords_match_case_and_accent_insensitively_on_whole_words(text, keyword, found):
    assert (contains_keyword(text, [keyword]) is not None) is found


def test_folding_and_tokens():
    assert fold("Cupón ÉTÉ") == "cupon ete"
    assert tokens("¡Hola, señor! 20% OFF") == ["hola", "senor", "20", "off"]


def definitions(n: int, *, used: timedelta | None = None) -> list[TagDefinition]:
    created = iso(NOW - timedelta(days=100))
    last = iso(NOW - used) if used is not None else None
    return [
        TagDefinition(
            name=f"interest:t{i}",
            dimension="interest",
            kind="static",
            colour="#000",
            created_at=created,
            created_by="a",
            last_used_at=last,
        )  # fmt: skip
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("size", "status"),
    [(49, "small"), (50, "healthy"), (80, "healthy"), (81, "large"), (100, "large"), (101, "too-large")],
)
def test_catalog_size_bands(size, status):
    assert health_report(definitions(size, used=timedelta(days=1)), {}, 10, NOW)["status"] == status


def test_overloaded_is_strictly_above_forty_percent():
    defs = definitions(2, used=timedelta(days=1))
    report = health_report(defs, {"interest:t0": 40, "interest:t1": 41}, 100, NOW)
    assert [o["name"] for o in report["overloaded"]] == ["interest:t1"]


def test_silent_after_thirty_days_without_a_send():
    assert health_report(definitions(1, used=timedelta(days=30)), {}, 1, NOW)["silent"] == []
    assert len(health_report(definitions(1, used=timedelta(days=30, seconds=1)), {}, 1, NOW)["silent"]) == 1

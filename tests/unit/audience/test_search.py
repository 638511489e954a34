"""Customer search on in-memory indexes: what q means, filters on candidates, bounded pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engage.audience import search as s
from engage.core.errors import Invalid
from engage.customers.profiles import Consent
from tests.fakes.audience import InMemoryDirectory

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def profile(n: int, name: str, wa_id: str, consent: bool = True, **more) -> s.Profile:
    return s.Profile(id=f"c_{n:04d}", name=name, wa_id=wa_id, consent=Consent(marketing=consent), **more)


def ports(directory):
    return s.SearchPorts(directory=directory, segments=None, reader=None, catalog=None)  # type: ignore[arg-type]


def pages(query, directory):
    out, cursor = [], None
    while True:
        found, cursor = s.search(query, ports(directory), after=cursor, now=NOW, country_code=49)
        out.append(found)
        if cursor is None:
            return out


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("+49 151 23", ("phone", "4915123")),
        ("0049-151", ("phone", "49151")),
        ("0151 2", ("phone", "491512")),
        ("4915", ("phone", "4915")),
        ("  Ásha  K ", ("name", "asha k")),
        ("Müller", ("name", "muller")),
    ],
)
def test_q_is_a_number_prefix_or_a_folded_name_prefix(typed, meant):
    assert s.parse_q(typed, 49) == meant


def test_a_blank_q_is_refused():
    with pytest.raises(Invalid):
        s.parse_q("   ", 49)


def test_a_rare_filter_over_a_big_base_answers_a_bounded_page_and_a_cursor():
    base = [profile(n, f"Kim {n}", f"4915100{n:05d}", consent=n % 500 == 499) for n in range(3000)]
    directory = InMemoryDirectory(base)
    found, cursor = s.search(s.Query(consent=True, limit=10), ports(directory), after=None, now=NOW)
    assert cursor is not None and directory.examined <= s.MAX_EXAMINED
    assert [c["id"] for c in found] == ["c_0499", "c_0999"]  # what the first 1,000 candidates held
    everything = [c["id"] for page in pages(s.Query(consent=True, limit=10), InMemoryDirectory(base)) for c in page]
    assert everything == ["c_0499", "c_0999", "c_1499", "c_1999", "c_2499", "c_2999"]


def test_a_tag_that_does_not_drive_is_checked_on_each_candidate():
    base = [profile(n, f"Anna {n}", f"4915100{n:05d}") for n in range(6)]
    directory = InMemoryDirectory(base, tags={"interest:yoga": {"c_0001", "c_0004"}})
    found = [c["id"] for page in pages(s.Query(q="anna", tag="interest:yoga", limit=1), directory) for c in page]
    assert found == ["c_0001", "c_0004"]


def test_a_summary_carries_rfm_and_lifecycle_from_the_pass():
    scores = {"r": 5, "f": 1, "m": 2, "score": 512, "group": "potential"}
    clock = ["lifecycle:new", "lifecycle:pre-churn", "activity:needs-attention", "value:mid"]
    p = profile(1, "Asha", "4915100000001", rfm=scores, clock_tags=clock)
    summary = s.summary(p)
    assert summary["rfm"]["group"] == "potential"
    assert summary["lifecycle"] == {
        "stage": "pre-churn", "stages": ["new", "pre-churn"], "activity": "needs-attention", "frequency": None,
        "value": "mid", "rfm_group": None,
    }  # fmt: skip
    assert "clock_tags" not in summary


def test_limit_outside_its_range_is_refused():
    with pytest.raises(Invalid):
        s.search(s.Query(limit=0), ports(InMemoryDirectory([])), after=None, now=NOW)

"""The nightly lifecycle pass on moto with an injected clock: fan-out, clock tags, RFM, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.core.time import epoch
from tests.helpers.lifecycle import T0, at, clock, customer, tags
from tests.helpers.queues import run_schedule


@pytest.fixture
def base(aws):
    from engage import wiring

    return wiring


def test_ninety_days_take_a_customer_from_active_to_needs_attention_to_dormant(base, lambda_context):
    # Given a customer whose last interaction was at T0
    cid = customer(base, 1, last_interaction_at=at(0))
    # When the nightly pass runs on day 1, day 31 and day 90
    first = run_schedule("lifecycle-pass", at(1), lambda_context)
    assert first["pages"] == 16 and first["pages_run"] == 32  # 16 sweep+stats pages, then 16 scoring pages
    assert clock(base, cid, "activity") == {"activity:active"}
    assert clock(base, cid, "rfm") == {"rfm:potential"}
    run_schedule("lifecycle-pass", at(30), lambda_context)
    assert clock(base, cid, "activity") == {"activity:active"}  # exactly 30 days: still active
    run_schedule("lifecycle-pass", at(31), lambda_context)
    assert clock(base, cid, "activity") == {"activity:needs-attention"}
    run_schedule("lifecycle-pass", at(90), lambda_context)
    # Then the customer is dormant, and every step is in the log with the system as its author
    assert clock(base, cid, "activity") == {"activity:dormant"}
    assert clock(base, cid, "rfm") == {"rfm:dormant"}
    log = [
        (e["tag"], e["change"])
        for e in base.tagging.log().entries(since=T0, until=T0 + timedelta(days=91), customer_id=cid)[0]
    ]
    assert ("activity:needs-attention", "added") in log and ("activity:active", "removed") in log
    assert ("activity:dormant", "added") in log


def test_the_same_night_twice_changes_nothing(base, lambda_context):
    cid = customer(base, 3, last_interaction_at=at(0))
    run_schedule("lifecycle-pass", at(40), lambda_context)
    before = (tags(base, cid), list(base.aws.table().query(f"CUST#{cid}", sk_prefix="TAGLOG#")))
    run_schedule("lifecycle-pass", at(40), lambda_context)
    assert (tags(base, cid), list(base.aws.table().query(f"CUST#{cid}", sk_prefix="TAGLOG#"))) == before


def test_tags_with_an_expiry_leave_on_time(base, lambda_context):
    from engage.tagging.catalog import TagChange

    cid = customer(base, 4, last_interaction_at=at(0))
    expires = epoch(T0 + timedelta(days=7))
    change = TagChange(
        customer_id=cid, tag="intent:price-asked", action="add", source="rule:kw-price-asked", event_id="w1",
        at=at(0), expires_at=expires,
    )  # fmt: skip
    base.tagging.writer().apply([change])
    run_schedule("lifecycle-pass", at(6.9), lambda_context)
    assert "intent:price-asked" in tags(base, cid)
    run_schedule("lifecycle-pass", at(7.1), lambda_context)
    assert "intent:price-asked" not in tags(base, cid)
    entries, _ = base.tagging.log().entries(since=T0, until=T0 + timedelta(days=8), tag="intent:price-asked")
    assert [e["change"] for e in entries if e.get("customer_id") == cid] == ["expired", "added"]

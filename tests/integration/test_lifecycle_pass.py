"""The nightly lifecycle pass on moto with an injected clock: fan-out, clock tags, RFM, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.timeutil import epoch, iso, parse_iso
from tests.helpers.queues import run_schedule

T0 = parse_iso("2026-08-01T02:00:00Z")


def at(days: float) -> str:
    return iso(T0 + timedelta(days=days))


@pytest.fixture
def base(aws):
    from engage import wiring

    return wiring


def customer(wiring, n: int, **fields):
    from engage.customers import Customer

    c = Customer(id=f"c_{n:032x}", wa_id=f"49151000{n:05d}", first_seen_at=at(-1), **fields)
    wiring.customers().create(c)
    return c.id


def tags(wiring, cid):
    return {m["name"] for m in wiring.memberships().of_customer(cid)}


def clock(wiring, cid, dimension):
    return {t for t in tags(wiring, cid) if t.startswith(dimension + ":")}


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
        for e in base.tag_log().entries(since=T0, until=T0 + timedelta(days=91), customer_id=cid)[0]
    ]
    assert ("activity:needs-attention", "added") in log and ("activity:active", "removed") in log
    assert ("activity:dormant", "added") in log


def test_a_single_purchase_walks_new_growth_pre_churn_churned_lost(base, lambda_context):
    cid = customer(
        base, 2, orders=1, total_spent=50, first_order_at=at(0), last_order_at=at(0), last_interaction_at=at(0)
    )
    base.table().update(
        f"CUST#{cid}", "PROFILE", __import__("engage").adapters.dynamo.table.Update().set(order_times=[at(0)])
    )
    expected = {
        45: {"lifecycle:new", "lifecycle:growth-low"},
        91: {"lifecycle:pre-churn"},
        181: {"lifecycle:churned"},
        366: {"lifecycle:lost"},
    }
    for day, wanted in expected.items():
        run_schedule("lifecycle-pass", at(day), lambda_context)
        assert clock(base, cid, "lifecycle") == wanted, day
    assert clock(base, cid, "frequency") == {"frequency:lost"}


def test_rfm_scores_buyers_by_quintiles_and_marks_the_top_as_high_value(base, lambda_context):
    ids = [
        customer(
            base,
            10 + i,
            orders=1 + i // 2,
            total_spent=10.0 * (i + 1),
            first_order_at=at(-100),
            last_order_at=at(-(20 - i)),
            last_interaction_at=at(-(20 - i)),
        )  # fmt: skip
        for i in range(10)
    ]
    run_schedule("lifecycle-pass", at(0), lambda_context)
    top, bottom = (
        base.customers().table.get(f"CUST#{ids[-1]}", "PROFILE"),
        base.table().get(f"CUST#{ids[0]}", "PROFILE"),
    )
    assert top["rfm"]["score"] == "555" and top["rfm"]["group"] == "vip"
    assert bottom["rfm"]["score"] == "111" and bottom["rfm"]["group"] == "dormant"
    assert "value:high" in tags(base, ids[-1]) and "rfm:vip" in tags(base, ids[-1])
    assert "value:low" in tags(base, ids[0])
    cuts = base.passes().get_cuts(at(0)[:10])
    assert cuts["buyers"] == 10


def test_the_same_night_twice_changes_nothing(base, lambda_context):
    cid = customer(base, 3, last_interaction_at=at(0))
    run_schedule("lifecycle-pass", at(40), lambda_context)
    before = (tags(base, cid), list(base.table().query(f"CUST#{cid}", sk_prefix="TAGLOG#")))
    run_schedule("lifecycle-pass", at(40), lambda_context)
    assert (tags(base, cid), list(base.table().query(f"CUST#{cid}", sk_prefix="TAGLOG#"))) == before


def test_tags_with_an_expiry_leave_on_time(base, lambda_context):
    from engage.tags import TagChange

    cid = customer(base, 4, last_interaction_at=at(0))
    expires = epoch(T0 + timedelta(days=7))
    change = TagChange(
        customer_id=cid, tag="intent:price-asked", action="add", source="rule:kw-price-asked", event_id="w1",
        at=at(0), expires_at=expires,
    )  # fmt: skip
    base.tag_writer().apply([change])
    run_schedule("lifecycle-pass", at(6.9), lambda_context)
    assert "intent:price-asked" in tags(base, cid)
    run_schedule("lifecycle-pass", at(7.1), lambda_context)
    assert "intent:price-asked" not in tags(base, cid)
    entries, _ = base.tag_log().entries(since=T0, until=T0 + timedelta(days=8), tag="intent:price-asked")
    assert [e["change"] for e in entries if e.get("customer_id") == cid] == ["expired", "added"]

"""The nightly pass on moto with an injected clock: a buyer's lifecycle over a year, RFM over a base."""

from __future__ import annotations

import pytest

from tests.helpers.lifecycle import at, clock, customer, tags
from tests.helpers.queues import run_schedule


@pytest.fixture
def base(aws):
    from engage import wiring

    return wiring


def test_a_single_purchase_walks_new_growth_pre_churn_churned_lost(base, lambda_context):
    cid = customer(
        base, 2, orders=1, total_spent=50, first_order_at=at(0), last_order_at=at(0), last_interaction_at=at(0)
    )
    base.aws.table().update(
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
        base.customers.repository().table.get(f"CUST#{ids[-1]}", "PROFILE"),
        base.aws.table().get(f"CUST#{ids[0]}", "PROFILE"),
    )
    assert top["rfm"]["score"] == "555" and top["rfm"]["group"] == "vip"
    assert bottom["rfm"]["score"] == "111" and bottom["rfm"]["group"] == "dormant"
    assert "value:high" in tags(base, ids[-1]) and "rfm:vip" in tags(base, ids[-1])
    assert "value:low" in tags(base, ids[0])
    cuts = base.tagging.passes().get_cuts(at(0)[:10])
    assert cuts["buyers"] == 10

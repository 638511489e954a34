"""Clock tags at their edges: activity, lifecycle, frequency, RFM cut points and groups."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.core.time import iso, parse_iso
from engage.tagging.lifecycle import (
    Cuts,
    LifecycleConfig,
    activity_tag,
    cut_points,
    frequency_tag,
    lifecycle_tags,
    quantiles,
    rfm,
    sketch,
    strategy_group,
)

pytestmark = pytest.mark.disable_socket

NOW = parse_iso("2026-11-23T02:00:00Z")
CFG = LifecycleConfig()


def ago(d: float, s: int = 0) -> str:
    return iso(NOW - timedelta(days=d, seconds=s))


@pytest.mark.parametrize(
    ("quiet", "tag"),
    [((30, 0), "activity:active"), ((30, 1), "activity:needs-attention"), ((89, 86399), "activity:needs-attention"),
     ((90, 0), "activity:dormant")],
)  # fmt: skip
def test_activity_by_days_since_the_last_interaction(quiet, tag):
    assert activity_tag({"last_interaction_at": ago(*quiet)}, NOW, CFG) == tag


def test_no_read_in_fourteen_days_turns_high_activity_into_needs_attention():
    profile = {"last_interaction_at": ago(2)}
    assert activity_tag({**profile, "last_read_at": ago(14)}, NOW, CFG) == "activity:high"
    assert activity_tag({**profile, "last_read_at": ago(14, 1)}, NOW, CFG) == "activity:needs-attention"


def buyer(first: float, last: float | None = None, orders: int = 1, read: float | None = None) -> dict:
    p = {"orders": orders, "first_order_at": ago(first), "last_order_at": ago(last if last is not None else first)}
    if read is not None:
        p["last_read_at"] = ago(read)
    return p


@pytest.mark.parametrize(
    ("profile", "tags"),
    [
        (buyer(0), {"lifecycle:new"}),
        (buyer(30), {"lifecycle:new"}),
        (buyer(31, read=3), {"lifecycle:new", "lifecycle:growth-high"}),
        (buyer(45, read=8), {"lifecycle:new", "lifecycle:growth-low"}),
        (buyer(61, read=1), {"lifecycle:growth-high"}),
        (buyer(91), {"lifecycle:pre-churn"}),
        (buyer(120, last=10, orders=2), set()),
        (buyer(120, last=10, orders=2, read=61), {"lifecycle:pre-churn"}),
        (buyer(400, last=181, orders=3), {"lifecycle:churned"}),
        (buyer(400, last=366, orders=3), {"lifecycle:lost"}),
        ({"orders": 0}, set()),
    ],
)
def test_lifecycle_stages(profile, tags):
    assert lifecycle_tags(profile, NOW, CFG) == tags


def test_frequency_tiers_from_order_times():
    def tier(*order_days):
        return frequency_tag({"orders": len(order_days), "order_times": [ago(d) for d in order_days]}, NOW, CFG)

    assert tier(1, 10, 30) == "frequency:high-active"
    assert tier(1, 10, 31) == "frequency:mid"
    assert tier(100) == "frequency:low"
    assert tier(366) == "frequency:lost"
    assert frequency_tag({"orders": 0}, NOW, CFG) is None


def test_quintile_cut_points_from_merged_sketches():
    shard_a, shard_b = sketch(range(0, 50)), sketch(range(50, 100))
    assert quantiles([shard_a, shard_b], (0.2, 0.4, 0.6, 0.8)) == [19, 39, 59, 79]
    big = sketch(float(v) for v in range(100_000))
    assert len(big) == 200
    assert abs(quantiles([big], (0.5,))[0] - 50_000) < 500


def test_rfm_scores_and_strategy_groups():
    stats = [
        {"recency": sketch(range(1, 101)), "frequency": sketch(range(1, 101)), "monetary": sketch(range(1, 101)),
         "buyers": 100}
    ]  # fmt: skip
    cuts = cut_points(stats, CFG)
    assert isinstance(cuts, Cuts) and cuts.buyers == 100 and cuts.value_high >= 89
    best = {"orders": 95, "total_spent": 99, "last_order_at": ago(1)}
    worst = {"orders": 1, "total_spent": 1, "last_order_at": ago(100)}
    assert rfm(best, NOW, cuts)["score"] == "555" and rfm(worst, NOW, cuts)["score"] == "111"
    assert strategy_group(rfm(best, NOW, cuts), best, NOW, CFG) == "rfm:vip"
    assert strategy_group(rfm(worst, NOW, cuts), worst, NOW, CFG) == "rfm:dormant"
    engaged = {"orders": 0, "last_interaction_at": ago(10)}
    assert strategy_group(None, engaged, NOW, CFG) == "rfm:potential"
    assert strategy_group(None, {"orders": 0, "last_interaction_at": ago(90)}, NOW, CFG) == "rfm:dormant"

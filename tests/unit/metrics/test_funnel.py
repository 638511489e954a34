"""Rates, healthy ranges, the daily range rules and the readable report."""

from __future__ import annotations

from datetime import date

import pytest

from engage.core.errors import Invalid
from engage.metrics.funnel import MetricsConfig, campaign_metrics, daily_metrics, day_range, health, rates
from engage.metrics.reports import format_campaign_report

CONFIG = MetricsConfig()
ROWS = [
    {"day": "2026-11-22", "variant": "A", "sent": 100, "delivered": 99, "read": 70, "replied": 20, "clicked": 15,
     "clicks": 22, "opted_out": 1, "failed": 1, "failed:131026": 1},
    {"day": "2026-11-23", "variant": "B", "sent": 100, "delivered": 90, "read": 30, "replied": 5, "clicked": 3,
     "clicks": 3, "opted_out": 8, "failed": 10, "failed:131026": 6, "failed:131049": 4},
]  # fmt: skip


def test_rates_use_delivered_as_the_readers_denominator():
    assert rates({"sent": 200, "delivered": 180, "read": 90, "replied": 18, "clicked": 27, "opted_out": 9}) == {
        "delivery": 0.9,
        "read": 0.5,
        "reply": 0.1,
        "click": 0.15,
        "opt_out": 0.05,
    }
    assert rates({})["read"] is None


@pytest.mark.parametrize(
    "counts,name,status",
    [
        ({"sent": 100, "delivered": 98}, "delivery", "healthy"),
        ({"sent": 100, "delivered": 97}, "delivery", "low"),
        ({"sent": 100, "delivered": 94}, "delivery", "poor"),
        ({"delivered": 100, "read": 60}, "read", "healthy"),
        ({"delivered": 100, "read": 81}, "read", "high"),
        ({"delivered": 100, "read": 59}, "read", "low"),
        ({"delivered": 100, "replied": 15}, "reply", "healthy"),
        ({"delivered": 100, "clicked": 9}, "click", "low"),
        ({"delivered": 100, "opted_out": 5}, "opt_out", "healthy"),
        ({"delivered": 100, "opted_out": 6}, "opt_out", "high"),
        ({"delivered": 100, "opted_out": 8}, "opt_out", "poor"),
        ({}, "read", "no_data"),
    ],
)
def test_each_rate_is_judged_against_its_healthy_range(counts, name, status):
    assert health(counts, CONFIG)[name]["status"] == status


def test_campaign_metrics_have_funnel_rates_variants_and_days():
    out = campaign_metrics("cmp_1", ROWS, CONFIG, meta={"name": "Spring", "launched_at": "2026-11-22T09:00:00Z"})
    assert (out["sent"], out["delivered"], out["read"], out["clicked"], out["clicks_total"]) == (200, 189, 100, 18, 25)
    assert out["failed_by_code"] == {"131026": 7, "131049": 4}
    assert out["rates"]["delivery"] == 0.945 and out["health"]["delivery"]["status"] == "poor"
    assert set(out["variants"]) == {"A", "B"} and out["variants"]["B"]["opted_out"] == 8
    assert [d["day"] for d in out["days"]] == ["2026-11-22", "2026-11-23"]


def test_daily_metrics_list_every_day_with_segments():
    rows = [
        {"day": "2026-11-22", "segment_id": "seg_vip", "sent": 5},
        {"day": "2026-11-22", "segment_id": "-", "sent": 1},
    ]
    out = daily_metrics(rows, date(2026, 11, 21), date(2026, 11, 23), CONFIG)
    assert [d["day"] for d in out["days"]] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert out["days"][1]["sent"] == 6 and out["days"][1]["segments"]["seg_vip"]["sent"] == 5
    assert out["totals"]["sent"] == 6


def test_day_range_defaults_and_limits():
    today = date(2026, 11, 23)
    assert day_range(None, None, today, 92) == (date(2026, 10, 25), today)
    assert day_range("2026-08-24", "2026-11-23", today, 92)[0] == date(2026, 8, 24)  # 92 days
    for raw_from, raw_to in (("2026-08-23", "2026-11-23"), ("2026-11-24", "2026-11-23"), ("yesterday", None)):
        with pytest.raises(Invalid):
            day_range(raw_from, raw_to, today, 92)


def test_config_document_overrides_defaults_and_keeps_the_rest():
    config = MetricsConfig.from_document({"alerts": {"min_sample": 10}, "ranges": {"read": {"min": 0.5, "max": 0.9}}})
    assert config.alerts.min_sample == 10 and config.alerts.opt_out_rate_max == 0.07
    assert config.ranges["read"].min == 0.5 and config.ranges["delivery"].poor_below == 0.95


def test_report_is_a_readable_table():
    text = format_campaign_report(campaign_metrics("cmp_1", ROWS, CONFIG, meta={"name": "Spring"}))
    lines = text.splitlines()
    assert lines[0] == "Campaign report: Spring (cmp_1)"
    assert any(line.startswith("delivered") and "94.5%" in line and "poor" in line for line in lines)
    assert any(line.strip().startswith("code 131026") for line in lines)
    assert "Per variant" in text and "Per day" in text

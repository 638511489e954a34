"""Each alert at its threshold, minimum samples, and alerts that open once and close when clear."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engage.core.time import parse_iso
from engage.metrics.alerts import campaign_findings, reconcile, segment_findings, weekly_segment_counts
from engage.metrics.funnel import AlertThresholds

LIMITS = AlertThresholds()
NOW = parse_iso("2026-11-23T12:00:00Z")


def kinds(findings) -> dict[str, bool]:
    return {key.split("#")[0]: finding is not None for key, finding in findings.items()}


@pytest.mark.parametrize("opted_out,fires", [(70, False), (71, True)])  # of 1,000 delivered: 7.0% / 7.1%
def test_opt_out_rate_alerts_above_7_percent(opted_out, fires):
    counts = {"sent": 1000, "delivered": 1000, "read": 700, "opted_out": opted_out}
    assert kinds(campaign_findings("cmp_1", counts, 12, LIMITS))["opt_out_rate"] is fires


@pytest.mark.parametrize("read,fires", [(200, False), (199, True)])  # 20.0% / 19.9%
def test_read_rate_alerts_under_20_percent_with_the_advice_to_halve_volume(read, fires):
    counts = {"sent": 1000, "delivered": 1000, "read": read}
    found = campaign_findings("cmp_1", counts, 12, LIMITS)
    assert kinds(found)["read_rate"] is fires
    if fires:
        assert "Halve the volume" in found["read_rate#campaign:cmp_1"].advice


def test_read_rate_of_a_young_campaign_is_not_judged_yet():
    counts = {"sent": 1000, "delivered": 1000, "read": 0}
    assert "read_rate" not in kinds(campaign_findings("cmp_1", counts, 5.9, LIMITS))


@pytest.mark.parametrize("delivered,fires", [(950, False), (949, True)])  # 95.0% / 94.9%
def test_delivery_rate_alerts_under_95_percent_as_a_poor_list(delivered, fires):
    found = campaign_findings("cmp_1", {"sent": 1000, "delivered": delivered, "read": 700}, 12, LIMITS)
    assert kinds(found)["delivery_rate"] is fires
    if fires:
        assert "Poor list" in found["delivery_rate#campaign:cmp_1"].title


def test_nothing_is_judged_under_the_minimum_sample():
    assert campaign_findings("cmp_1", {"sent": 49, "delivered": 19, "opted_out": 10, "read": 0}, 12, LIMITS) == {}
    judged = kinds(campaign_findings("cmp_1", {"sent": 50, "delivered": 49, "opted_out": 0, "read": 0}, 12, LIMITS))
    assert judged == {"delivery_rate": False, "opt_out_rate": False}  # read rate waits for 50 delivered


# A small shop's campaign: opt-outs are judged from 20 deliveries, and need at least 2 opt-outs.
@pytest.mark.parametrize(
    ("delivered", "opted_out", "judged", "fires"),
    [
        (19, 5, False, False),  # under the opt-out minimum sample: not judged at all
        (20, 1, True, False),  # 5%: under 7%
        (20, 2, True, True),  # 10% with two opt-outs
        (28, 2, True, True),  # 7.14%: just above 7%
        (100, 7, True, False),  # exactly 7% does not alert (above 7% does)
        (49, 4, True, True),  # a volume under the general minimum sample still gets the opt-out alert
    ],
)
def test_a_small_campaign_gets_its_opt_out_alert_at_a_lower_volume(delivered, opted_out, judged, fires):
    found = kinds(
        campaign_findings("cmp_1", {"sent": delivered, "delivered": delivered, "opted_out": opted_out}, 12, LIMITS)
    )
    assert ("opt_out_rate" in found) is judged
    assert found.get("opt_out_rate", False) is fires


def test_one_opt_out_is_never_a_trend_even_with_a_lowered_sample():
    limits = AlertThresholds(opt_out_min_sample=5)
    one = kinds(campaign_findings("cmp_1", {"sent": 5, "delivered": 5, "opted_out": 1}, 12, limits))
    two = kinds(campaign_findings("cmp_1", {"sent": 5, "delivered": 5, "opted_out": 2}, 12, limits))
    assert one == {"opt_out_rate": False} and two == {"opt_out_rate": True}


def test_the_minimum_samples_are_settings():
    from engage.metrics.funnel import MetricsConfig

    config = MetricsConfig.from_document(
        {"alerts": {"min_sample": 200, "opt_out_min_sample": 60, "opt_out_min_count": 3}}
    )
    assert (config.alerts.min_sample, config.alerts.opt_out_min_sample, config.alerts.opt_out_min_count) == (200, 60, 3)
    counts = {"sent": 100, "delivered": 100, "opted_out": 10, "read": 0}
    assert kinds(campaign_findings("cmp_1", counts, 12, config.alerts)) == {"opt_out_rate": True}
    with pytest.raises(ValueError):
        AlertThresholds(min_sample=0)


def weeks(*rates: float, delivered: int = 1000) -> list[dict[str, int]]:
    return [{"delivered": delivered, "clicked": round(rate * delivered)} for rate in rates]


@pytest.mark.parametrize(
    "rates,fires",
    [
        ((0.20, 0.159, 0.127), True),  # -20.5%, -20.1%
        ((0.20, 0.160, 0.127), False),  # -20.0% exactly is not "more than 20%"
        ((0.20, 0.150, 0.125), False),  # second fall only 16.7%
        ((0.20, 0.10, 0.20), False),  # recovered
    ],
)
def test_segment_click_rate_falling_more_than_20_percent_two_weeks_running(rates, fires):
    found = segment_findings("seg_vip", weeks(*rates), LIMITS)
    assert (found["segment_click_drop#segment:seg_vip"] is not None) is fires


def test_segment_trend_needs_the_minimum_sample_every_week():
    assert segment_findings("seg_vip", weeks(0.2, 0.1, 0.05, delivered=49), LIMITS) == {}


def test_weekly_counts_use_the_three_complete_weeks_before_today():
    today = date(2026, 11, 23)
    rows = [
        {"day": (today - timedelta(days=age)).isoformat(), "segment_id": "s", "delivered": 1, "clicked": age}
        for age in range(0, 23)
    ]
    counts = weekly_segment_counts(rows, today)["s"]
    assert [c["delivered"] for c in counts] == [7, 7, 7]
    assert counts[2]["clicked"] == sum(range(1, 8))  # ages 1..7 are the latest week


class FakeAlertStore:
    def __init__(self) -> None:
        self.open_items: dict[str, dict] = {}
        self.log: list[dict] = []

    def open_alerts(self):
        return dict(self.open_items)

    def open(self, alert):
        if alert["key"] in self.open_items:
            return False
        self.open_items[alert["key"]] = dict(alert)
        self.log.append(alert)
        return True

    def close(self, key, now, reason):
        alert = self.open_items.pop(key, None)
        if alert:
            alert["status"], alert["close_reason"] = "closed", reason
        return alert

    def mark_published(self, key, at):
        if key in self.open_items:
            self.open_items[key]["published_at"] = at.isoformat()


class FakeTopic:
    def __init__(self, fail_times: int = 0) -> None:
        self.published: list[dict] = []
        self.fail_times = fail_times

    def publish(self, alert):
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("sns down")
        self.published.append(alert)


def run_hour(store, topic, read: int, active=True, hour: int = 0):
    counts = {"sent": 1000, "delivered": 1000, "read": read}
    found = campaign_findings("cmp_1", counts, 12, LIMITS)
    subjects = {"campaign:cmp_1"} if active else set()
    now = NOW + timedelta(hours=hour)
    return reconcile(found, store.open_alerts(), subjects, store=store, publisher=topic, now=now)


def test_an_alert_opens_once_stays_quiet_while_open_and_closes_when_clear():
    store, topic = FakeAlertStore(), FakeTopic()
    assert run_hour(store, topic, read=100)["opened"] == ["read_rate#campaign:cmp_1"]
    assert run_hour(store, topic, read=110, hour=1)["still_open"] == ["read_rate#campaign:cmp_1"]
    assert len(topic.published) == 1 and len(store.log) == 1
    assert run_hour(store, topic, read=300, hour=2)["closed"] == ["read_rate#campaign:cmp_1"]
    assert run_hour(store, topic, read=100, hour=3)["opened"] == ["read_rate#campaign:cmp_1"]
    assert len(topic.published) == 2


def test_a_failed_publish_is_retried_next_hour_without_a_second_alert():
    store, topic = FakeAlertStore(), FakeTopic(fail_times=1)
    with pytest.raises(RuntimeError):
        run_hour(store, topic, read=100)
    run_hour(store, topic, read=100, hour=1)
    assert len(store.log) == 1 and len(topic.published) == 1
    assert store.open_items["read_rate#campaign:cmp_1"]["published_at"]


def test_alerts_of_an_inactive_campaign_close():
    store, topic = FakeAlertStore(), FakeTopic()
    run_hour(store, topic, read=100)
    outcome = reconcile({}, store.open_alerts(), set(), store=store, publisher=topic, now=NOW)
    assert outcome["closed"] == ["read_rate#campaign:cmp_1"] and not store.open_items

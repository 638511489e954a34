"""The sending rules at their edges, with an injected clock (T0 = Monday 10:30 UTC = 11:30 Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.config import CapConfig, SendingConfig
from engage.delivery.jobs import SendJob, TemplateMessage, TextMessage
from engage.delivery.policy import PastSend, SendContext, decide
from tests.fakes.sending import T0

BERLIN = "4915123456789"
RIYADH = "966501234567"


def customer(**kw) -> Customer:
    data = {"id": "c_01", "wa_id": BERLIN, "name": "Asha", "consent": Consent(marketing=True), "country": "DE"}
    data.update(kw)
    return Customer(**data)


def job(category: str = "marketing", text: str | None = None) -> SendJob:
    message = TextMessage(text=text) if text else TemplateMessage(template="promo", variables={})
    return SendJob(customer_id="c_01", send_key="cmp_1", campaign_id="cmp_1", category=category, message=message)


def past(days_ago: float, content: str = "promotional", now: datetime = T0, urgent: bool = False) -> PastSend:
    return PastSend(
        send_key=f"k{days_ago}", category="marketing", at=now - timedelta(days=days_ago), content=content, urgent=urgent
    )


CFG = SendingConfig()


def at_local(hour: int, minute: int = 0, day: int = 23) -> datetime:
    """Berlin is UTC+1 in November."""
    return datetime(2026, 11, day, hour - 1, minute, tzinfo=UTC)


# ---------------------------------------------------------------- refusals
def test_marketing_without_consent_is_refused_but_utility_is_not():
    c = customer(consent=Consent(marketing=False))
    assert decide(job(), c, [], CFG, T0).reason == "no_consent"
    assert decide(job("utility"), c, [], CFG, T0).action == "send"


def test_undeliverable_and_addressless_customers_are_refused():
    assert decide(job(), customer(undeliverable=True), [], CFG, T0).reason == "undeliverable"
    assert decide(job(), customer(wa_id=None, user_id=None), [], CFG, T0).reason == "no_address"


def test_free_text_only_inside_the_24_hour_window():
    inside = customer(last_inbound_at=iso(T0 - timedelta(hours=23, minutes=59, seconds=59)))
    outside = customer(last_inbound_at=iso(T0 - timedelta(hours=24)))
    assert decide(job(text="Hi"), inside, [], CFG, T0).action == "send"
    refused = decide(job(text="Hi"), outside, [], CFG, T0)
    assert (refused.action, refused.reason) == ("refuse", "needs_template")
    assert decide(job(), outside, [], CFG, T0).action == "send"  # a template needs no window


# ---------------------------------------------------------------- windows and quiet hours
def test_window_edges_in_local_time():
    c = customer()
    assert decide(job(), c, [], CFG, at_local(11, 59)).action == "send"
    noon = decide(job(), c, [], CFG, at_local(12, 0))
    assert (noon.action, noon.reason, noon.until) == ("defer", "send_window", at_local(20))
    assert decide(job(), c, [], CFG, at_local(10, 0)).action == "send"
    assert decide(job(), c, [], CFG, at_local(21, 59)).action == "send"


def test_quiet_hours_defer_to_the_next_morning_window_and_win_over_regional_windows():
    late = decide(job(), customer(), [], CFG, at_local(22, 0))
    assert (late.action, late.reason) == ("defer", "quiet_hours")
    assert late.until == at_local(8, 0, day=24)  # Europe's 7-9 window starts at 8 once quiet hours end
    early = decide(job(), customer(), [], CFG, at_local(7, 30))
    assert early.until == at_local(8, 0)


def test_middle_east_windows_and_profile_timezone():
    riyadh = customer(wa_id=RIYADH, country="SA", timezone="Asia/Riyadh")  # UTC+3: T0 is 13:30 local
    d = decide(job(), riyadh, [], CFG, T0)
    assert d.action == "defer" and d.until == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 14:00 local
    tokyo = customer(timezone="Asia/Tokyo", country="JP")  # 19:30 local: the next window is 20:00
    assert decide(job(), tokyo, [], CFG, T0).until == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_utility_waits_only_for_quiet_hours_and_service_never_waits():
    at = at_local(23, 0)
    util = decide(job("utility"), customer(), [], CFG, at)
    assert (util.action, util.until) == ("defer", at_local(8, 0, day=24))
    assert decide(job("service"), customer(), [], CFG, at).action == "send"


def test_best_window_prefers_the_window_the_customer_reads_in():
    c = customer(last_read_at=iso(at_local(20, 30, day=20)))
    d = decide(job(), c, [], CFG, at_local(10, 30), context=SendContext(best_window=True))
    assert d.until == at_local(20, 0)


# ---------------------------------------------------------------- caps
def test_promotional_messages_at_least_7_days_apart():
    c = customer()
    d = decide(job(), c, [past(7 - 1 / 86400)], CFG, T0)
    assert (d.action, d.reason) == ("defer", "cap:promotional")
    assert decide(job(), c, [past(7)], CFG, T0).action == "send"


def test_at_most_two_promotional_a_month_and_a_far_cap_refuses():
    d = decide(job(), customer(), [past(20), past(8)], CFG, T0)
    assert (d.action, d.reason) == ("refuse", "cap:promotional")  # clears in 10 days: past max_defer
    assert decide(job(), customer(), [past(30), past(8)], CFG, T0).action == "send"


def test_useful_content_at_most_once_a_week():
    ctx = SendContext(content="useful")
    assert decide(job(), customer(), [past(6.9, "useful")], CFG, T0, context=ctx).reason == "cap:useful"
    assert decide(job(), customer(), [past(7, "useful")], CFG, T0, context=ctx).action == "send"


def test_active_customers_at_most_three_a_week():
    cfg = SendingConfig(caps=CapConfig(useful_max_per_7_days=10))
    c = customer(last_interaction_at=iso(T0 - timedelta(days=2)))
    ctx = SendContext(content="useful")
    three = [past(1.1, "useful"), past(3, "useful"), past(5, "useful")]
    assert decide(job(), c, three, cfg, T0, context=ctx).reason == "cap:activity"
    assert decide(job(), c, three[:2], cfg, T0, context=ctx).action == "send"


def test_dormant_customers_at_most_one_every_two_weeks():
    cfg = SendingConfig(caps=CapConfig(useful_max_per_7_days=10))
    c = customer(last_interaction_at=iso(T0 - timedelta(days=100)))
    ctx = SendContext(content="useful")
    assert decide(job(), c, [past(13.9, "useful")], cfg, T0, context=ctx).reason == "cap:activity"
    assert decide(job(), c, [past(14, "useful")], cfg, T0, context=ctx).action == "send"


def test_new_customers_may_get_one_a_day_in_their_first_three_days():
    c = customer(first_order_at=iso(T0 - timedelta(days=2)))
    assert decide(job(), c, [past(1)], CFG, T0).action == "send"
    assert decide(job(), c, [past(0.9)], CFG, T0).reason == "cap:promotional"
    older = customer(first_order_at=iso(T0 - timedelta(days=4)))
    assert decide(job(), older, [past(1)], CFG, T0).reason == "cap:promotional"


def test_no_more_than_three_consecutive_days_of_sends():
    cfg = SendingConfig(caps=CapConfig(promo_min_gap_days=0, promo_max_per_30_days=99, active_max_per_7_days=99))
    three_days = [past(1), past(2), past(3)]
    d = decide(job(), customer(), three_days, cfg, T0)
    assert (
        d.reason == "cap:consecutive_days" and d.until is not None and d.until.date() == (T0 + timedelta(days=1)).date()
    )
    assert decide(job(), customer(), [past(1), past(2), past(4)], cfg, T0).action == "send"


def test_urgency_words_in_at_most_two_sends_a_week():
    cfg = SendingConfig(caps=CapConfig(promo_min_gap_days=0, promo_max_per_30_days=99, active_max_per_7_days=99))
    urgent = SendContext(urgent=True)
    two = [past(2, urgent=True), past(5, urgent=True)]
    assert decide(job(), customer(), two, cfg, T0, context=urgent).reason == "cap:urgent"
    assert decide(job(), customer(), two, cfg, T0).action == "send"


# ---------------------------------------------------------------- pair limit
@pytest.mark.parametrize(("seconds_ago", "action"), [(5.0, "defer"), (6.0, "send")])
def test_pair_limit_one_message_per_customer_per_6_seconds(seconds_ago, action):
    last = T0 - timedelta(seconds=seconds_ago)
    d = decide(job("utility"), customer(), [], CFG, T0, last_sent=last)
    assert d.action == action
    if action == "defer":
        assert d.reason == "pair_limit" and d.until == last + timedelta(seconds=6)

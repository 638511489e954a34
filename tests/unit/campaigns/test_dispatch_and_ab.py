"""Dispatch pages, the A/B split and decision, the messaging tier, resume and follow-up (in memory)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.campaigns import campaign as campaigns
from engage.campaigns import service as campaign_flow
from engage.campaigns.ab import decide_winner
from engage.campaigns.campaign import Campaign, Variant
from engage.campaigns.dispatch import DispatchPorts, dispatch_page, sample_fraction
from engage.campaigns.service import FlowPorts
from engage.core.time import iso
from engage.delivery.config import SendingConfig
from engage.delivery.sends import SendItem
from tests.fakes.sending import T0, FakeAudience, FakeCampaigns, FakeConfig, FakeQueue, FakeSends, FakeTier


class Env:
    def __init__(self, n: int, config: SendingConfig | None = None):
        self.audience = FakeAudience({"vip": [f"c_{i:06x}" for i in range(n)]})
        self.campaigns, self.sends = FakeCampaigns(), FakeSends()
        self.send_q, self.dispatch_q, self.tier = FakeQueue(), FakeQueue(), FakeTier()
        self.config = FakeConfig(config or SendingConfig(dispatch_page=500))
        self.ports = DispatchPorts(self.campaigns, self.audience, self.send_q, self.dispatch_q, self.tier, self.config)
        self.flow = FlowPorts(
            self.campaigns, self.sends, self.send_q, self.dispatch_q, self.config, None, self.audience, self.audience
        )

    def campaign(self, variants: int = 1) -> Campaign:
        c = Campaign(
            id="cmp_1",
            name="x",
            rule={"tag": "vip"},
            variants=[Variant(name=n, template="t") for n in "AB"[:variants]],
            created_at=iso(T0),
        )
        self.campaigns.save(c)
        return campaigns.launch(self.campaigns, self.dispatch_q, c.id, T0, self.config.config)

    def run(self, now=T0) -> list[dict]:
        summaries = []
        while self.dispatch_q.sent:
            (message, _), *rest = self.dispatch_q.sent
            self.dispatch_q.sent = rest
            summaries.append(dispatch_page(message, now, self.ports))
        return summaries

    def jobs(self) -> list[dict]:
        return [b for b, _ in self.send_q.take()]


def test_a_large_audience_is_dispatched_in_pages_and_a_replayed_page_is_dropped():
    env = Env(1234)
    env.campaign()
    first = dict(env.dispatch_q.sent[0][0])
    env.run()
    jobs = env.jobs()
    assert len(jobs) == 1234 and len({j["customer_id"] for j in jobs}) == 1234
    c = env.campaigns.items["cmp_1"]
    assert c.dispatch.done and c.dispatch.pages == 3 and c.audience_count == 1234
    assert dispatch_page(first, T0, env.ports) == {"skipped": "campaign running"} or env.jobs() == []


def test_a_crash_before_the_cursor_is_stored_repeats_the_page_only():
    env = Env(1200)
    env.campaign()
    message = env.dispatch_q.sent[0][0]
    original = env.campaigns.save
    env.campaigns.save = lambda c, expect_status=None: (_ for _ in ()).throw(RuntimeError("crash"))  # type: ignore
    with pytest.raises(RuntimeError):
        dispatch_page(message, T0, env.ports)
    env.campaigns.save = original  # type: ignore[method-assign]
    env.run()
    jobs = env.jobs()
    assert len({j["customer_id"] for j in jobs}) == 1200  # the repeated page is harmless: send items dedupe


def test_the_dispatcher_never_plans_past_the_messaging_tier():
    env = Env(3000, SendingConfig(messaging_tier=2000, dispatch_page=500))
    env.campaign()
    env.run()
    assert len(env.jobs()) == 2000
    c = env.campaigns.items["cmp_1"]
    assert c.dispatch.waiting_until == iso((T0 + timedelta(hours=24)).replace(minute=0, second=0))
    later = T0 + timedelta(hours=25)
    assert campaign_flow.campaign_tick(env.flow, later) == {"cmp_1": "dispatch resumed"}
    env.run(later)
    assert len(env.jobs()) == 1000


@pytest.mark.parametrize(("n", "expected"), [(1000, 0.10), (2000, 0.10), (10_000, 0.2), (100_000, 0.02)])
def test_ab_sample_is_10_percent_or_2x1000_above_2000(n, expected):
    c = Campaign(
        id="c",
        name="x",
        rule={"tag": "v"},
        variants=[Variant(name="A", template="t"), Variant(name="B", template="t")],
        created_at=iso(T0),
        audience_count=n,
    )
    assert sample_fraction(c, SendingConfig()) == pytest.approx(expected)


def test_ab_test_then_rollout_of_the_winner_to_the_rest():
    env = Env(10_000, SendingConfig(messaging_tier=100_000))
    env.campaign(variants=2)
    env.run()
    test_jobs = env.jobs()
    assert 1800 <= len(test_jobs) <= 2200
    by_variant = {v: sum(1 for j in test_jobs if j["variant"] == v) for v in "AB"}
    assert abs(by_variant["A"] - by_variant["B"]) < 200
    # the test recipients read B far more often
    for j in test_jobs:
        extra = {"read_at": iso(T0)} if j["variant"] == "B" or j["customer_id"].endswith(("0", "1")) else {}
        env.sends._put(
            SendItem(
                customer_id=j["customer_id"],
                send_key="cmp_1",
                campaign_id="cmp_1",
                variant=j["variant"],
                state="sent",
                **extra,
            )
        )
    assert campaign_flow.campaign_tick(env.flow, T0 + timedelta(minutes=59)) == {}
    assert campaign_flow.campaign_tick(env.flow, T0 + timedelta(minutes=61)) == {"cmp_1": "a/b decided"}
    c = env.campaigns.items["cmp_1"]
    assert c.winner == "B" and c.ab_result["variants"]["B"]["read_rate"] > c.ab_result["variants"]["A"]["read_rate"]
    env.run(T0 + timedelta(minutes=61))
    rollout = env.jobs()
    assert {j["variant"] for j in rollout} == {"B"}
    assert len(rollout) + len(test_jobs) == 10_000
    assert not {j["customer_id"] for j in rollout} & {j["customer_id"] for j in test_jobs}


def test_a_lead_under_15_percent_rolls_out_the_default_variant():
    items = [
        SendItem(
            customer_id=f"c{i}",
            send_key="k",
            variant="AB"[i % 2],
            state="sent",
            **({"read_at": "x"} if i % 10 < 6 else {}),
        )
        for i in range(200)
    ]
    result = decide_winner(items, ["A", "B"], "A", 0.15, T0)
    assert result["winner"] == "A" and "no variant leads" in result["why"]


def test_resume_requeues_parked_jobs_and_the_cursor():
    env = Env(10)
    env.campaign()
    env.dispatch_q.take()
    campaigns.pause(env.campaigns, "cmp_1", T0)
    env.sends.save(
        SendItem(
            customer_id="c_1",
            send_key="cmp_1",
            campaign_id="cmp_1",
            state="deferred",
            parked=True,
            job={"customer_id": "c_1"},
        )
    )
    campaign, requeued = campaign_flow.resume(env.flow, "cmp_1", T0)
    assert campaign.status == "running" and requeued == 1
    assert env.dispatch_q.sent[0][0]["cursor"] is None
    assert campaign_flow.resume.__doc__
    with pytest.raises(Exception, match="cannot resume"):
        campaign_flow.resume(env.flow, "cmp_1", T0)


def test_follow_up_lists_those_not_reached_with_their_reasons():
    env = Env(5)
    env.campaign()
    env.run()
    states = [
        ("sent", None, False),
        ("deferred", "send_window", False),
        ("retrying", "whatsapp:131000", False),
        ("refused", "no_consent", False),
    ]
    for i, (state, reason, parked) in enumerate(states):
        env.sends.save(
            SendItem(
                customer_id=f"c_{i:06x}",
                send_key="cmp_1",
                campaign_id="cmp_1",
                state=state,
                reason=reason,
                parked=parked,
            )
        )
    campaigns.cancel(env.campaigns, "cmp_1", T0)
    result = campaign_flow.follow_up(env.flow, "cmp_1", "me", T0)
    assert result["reasons"] == {"deferred_past_end": 1, "failed_retryably:whatsapp:131000": 1, "never_dispatched": 1}
    new = result["campaign"]
    assert (
        new.status == "draft"
        and new.audience_ready
        and env.audience.snapshots[new.id] == ["c_000001", "c_000002", "c_000004"]
    )


def test_an_audience_that_cannot_be_evaluated_pauses_the_campaign_with_the_reason():
    from engage.core.errors import Invalid

    env = Env(3)

    def refuse(*_args):
        raise Invalid("segment seg_1 is unknown")

    env.audience.snapshot_audience = refuse  # type: ignore[method-assign]
    env.campaign()
    assert env.run() == [{"paused": "segment seg_1 is unknown"}]
    c = env.campaigns.items["cmp_1"]
    assert c.status == "paused" and c.pause_reason == "audience: segment seg_1 is unknown"


def test_a_follow_up_with_nobody_left_is_refused():
    from engage.core.errors import Conflict

    env = Env(2)
    env.campaign()
    env.run()
    for j in env.jobs():
        env.sends.save(SendItem(customer_id=j["customer_id"], send_key="cmp_1", campaign_id="cmp_1", state="sent"))
    campaigns.cancel(env.campaigns, "cmp_1", T0)
    with pytest.raises(Conflict):
        campaign_flow.follow_up(env.flow, "cmp_1", "me", T0)


# ---------------------------------------------------------------- A/B decides on evidence
def sent_items(variant: str, n: int, *, delivered: int, read: int = 0, start: int = 0) -> list[SendItem]:
    """n sent items of a variant: the first `delivered` delivered, the first `read` of those read."""
    return [
        SendItem(
            customer_id=f"c_{variant}{start + i}",
            send_key="cmp_1",
            campaign_id="cmp_1",
            variant=variant,
            state="sent",
            status="read" if i < read else "delivered" if i < delivered else "sent",
        )
        for i in range(n)
    ]


def ab_env(items: list[SendItem], config: SendingConfig | None = None, min_delivered: int | None = None) -> Env:
    env = Env(0, config or SendingConfig())
    c = Campaign(
        id="cmp_1",
        name="x",
        rule={"tag": "vip"},
        variants=[Variant(name="A", template="t"), Variant(name="B", template="t")],
        created_at=iso(T0),
        status="running",
        **({"ab": {"min_delivered": min_delivered}} if min_delivered else {}),
    )
    dispatch = c.dispatch.model_copy(update={"phase": "test", "test_done_at": iso(T0), "snapshotted": True})
    env.campaigns.save(c.model_copy(update={"dispatch": dispatch}))
    for item in items:
        env.sends._put(item)
    return env


def test_no_winner_while_a_variant_has_no_delivered_sends_then_the_default_at_the_end_of_the_wait():
    # Given variant B reached nobody (every send failed before delivery) and A did well
    env = ab_env(sent_items("A", 150, delivered=150, read=120) + sent_items("B", 150, delivered=0))
    cfg = SendingConfig().ab
    # When the test window ends, nothing is decided: the test waits for evidence
    assert campaign_flow.campaign_tick(env.flow, T0 + timedelta(minutes=61)) == {}
    late = T0 + timedelta(minutes=cfg.window_minutes) + timedelta(hours=cfg.evidence_wait_hours)
    assert campaign_flow.campaign_tick(env.flow, late - timedelta(seconds=1)) == {}
    # Then at the end of the wait the default variant is rolled out, saying why
    assert campaign_flow.campaign_tick(env.flow, late) == {"cmp_1": "a/b decided"}
    c = env.campaigns.items["cmp_1"]
    assert c.winner == "A" == c.default_variant and c.dispatch.phase == "rollout"
    assert c.ab_result["evidence"] is False and "not enough evidence" in c.ab_result["why"]
    assert c.ab_result["variants"]["B"]["delivered"] == 0


def test_the_default_variant_wins_without_evidence_even_when_the_other_leads():
    env = ab_env(sent_items("A", 50, delivered=50, read=5) + sent_items("B", 50, delivered=50, read=50))
    late = T0 + timedelta(hours=24)
    assert campaign_flow.campaign_tick(env.flow, late) == {"cmp_1": "a/b decided"}
    assert env.campaigns.items["cmp_1"].winner == "A"


@pytest.mark.parametrize(("delivered_b", "decided"), [(99, False), (100, True)])
def test_a_winner_needs_the_minimum_of_delivered_sends_in_every_variant(delivered_b: int, decided: bool):
    # Given B leads clearly, with 99 or 100 of its 150 sends delivered (the minimum is 100)
    items = sent_items("A", 150, delivered=150, read=30) + sent_items("B", 150, delivered=delivered_b, read=90)
    env = ab_env(items)
    # When the window has ended
    outcome = campaign_flow.campaign_tick(env.flow, T0 + timedelta(minutes=61))
    # Then B wins only once it has the evidence
    assert outcome == ({"cmp_1": "a/b decided"} if decided else {})
    assert env.campaigns.items["cmp_1"].winner == ("B" if decided else None)


def test_the_minimum_is_a_setting_and_a_campaign_may_set_its_own():
    items = sent_items("A", 20, delivered=20, read=2) + sent_items("B", 20, delivered=20, read=15)
    lowered = SendingConfig.model_validate({"ab": {"min_delivered_per_variant": 20}})
    assert campaign_flow.campaign_tick(ab_env(items, lowered).flow, T0 + timedelta(minutes=61))
    env = ab_env(items, min_delivered=10)
    assert campaign_flow.campaign_tick(env.flow, T0 + timedelta(minutes=61)) == {"cmp_1": "a/b decided"}
    assert env.campaigns.items["cmp_1"].winner == "B"
    assert campaign_flow.campaign_tick(ab_env(items).flow, T0 + timedelta(minutes=61)) == {}

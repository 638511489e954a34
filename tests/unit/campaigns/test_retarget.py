"""Retargeting rounds: who is chosen (not read / not clicked), how many rounds, the 24-hour spacing
per recipient, the sending rules on the round's sends, and replays (in memory, through the sender)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from engage.campaigns import campaign as campaigns
from engage.campaigns import retarget
from engage.campaigns import service as campaign_flow
from engage.campaigns.dispatch import DispatchPorts, dispatch_page
from engage.campaigns.retarget import RetargetIn
from engage.campaigns.service import FlowPorts
from engage.campaigns.templates import Template
from engage.core.errors import Conflict, Invalid
from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob
from engage.delivery.sends import SendItem
from tests.fakes.sending import T0, FakeAudience, FakeQueue, FakeTemplates, FakeTier, World, add_campaign, world

WINTER = Template(name="winter", language="en", body="Hi {{1}}, our winter sale is on.", created_at=iso(T0))
PEOPLE = ["c_read", "c_delivered", "c_clicked", "c_sent"]


class Env:
    """A sender world with a source campaign sent to four customers at T0, then finished."""

    def __init__(self, link: str | None = "https://shop.example/winter", promo_gap_days: int | None = None) -> None:
        self.w: World = world()
        if promo_gap_days is not None:
            caps = self.w.config.config.caps.model_copy(update={"promo_min_gap_days": promo_gap_days})
            self.w.config.config = self.w.config.config.model_copy(update={"caps": caps})
        self.dispatch_q, self.audience = FakeQueue(), FakeAudience()
        self.flow = FlowPorts(
            self.w.campaigns,
            self.w.sends,
            self.w.queue,
            self.dispatch_q,
            self.w.config,
            FakeTemplates(WINTER),
            self.audience,
            self.audience,
        )
        self.ports = DispatchPorts(
            self.w.campaigns, self.audience, self.w.queue, self.dispatch_q, FakeTier(), self.w.config
        )
        add_campaign(self.w, link=link, started_at=iso(T0), launched_at=iso(T0))
        for i, cid in enumerate(PEOPLE):
            self.w.customers.add(
                Customer(id=cid, wa_id=f"491512340000{i}", name=f"Kim {i}", consent=Consent(marketing=True))
            )
            self.send(SendJob(customer_id=cid, send_key="cmp_1", campaign_id="cmp_1", variant="A", message=WINTER_JOB))
        self.status("c_read", status="read", status_rank=3, read_at=iso(T0 + timedelta(minutes=5)))
        self.status("c_delivered", status="delivered", status_rank=2, delivered_at=iso(T0))
        self.status("c_clicked", status="read", status_rank=3, read_at=iso(T0), clicked_at=iso(T0))
        self.finish("cmp_1")

    def send(self, job: SendJob) -> str:
        return self.w.sender.handle(job).action

    def status(self, customer_id: str, send_key: str = "cmp_1", **fields: object) -> None:
        item = self.w.sends.items[(customer_id, send_key)]
        self.w.sends._put(SendItem.model_validate({**item.model_dump(), **fields}))  # as a status update writes it

    def finish(self, campaign_id: str) -> None:
        c = self.w.campaigns.items[campaign_id]
        self.w.campaigns.items[campaign_id] = c.model_copy(update={"status": "completed", "completed_at": iso(T0)})

    def plan(self, audience: str = "not_read", source: str = "cmp_1", **kw: object) -> str:
        body = RetargetIn.model_validate({"audience": audience, **kw})
        c = retarget.plan(self.flow, source, body, "mara", T0 + timedelta(minutes=10))
        campaigns.launch(self.w.campaigns, self.dispatch_q, c.id, T0 + timedelta(minutes=11), self.w.config.config)
        return c.id

    def tick(self, at) -> dict:
        return campaign_flow.campaign_tick(self.flow, at)

    def dispatch(self, at) -> list[dict]:
        self.w.queue.take()
        pages = []
        while self.dispatch_q.sent:
            (message, _), *rest = self.dispatch_q.sent
            self.dispatch_q.sent = rest
            pages.append(message)
            dispatch_page(message, at, self.ports)
        return pages

    def jobs(self) -> list[SendJob]:
        return [SendJob.model_validate(b) for b, _ in self.w.queue.take()]


WINTER_JOB = campaigns.Variant(template="winter", body=["{{name}}"]).message()


def test_not_read_picks_those_reached_who_did_not_read_and_waits_24_hours():
    env = Env()
    rid = env.plan("not_read")
    assert env.w.campaigns.items[rid].status == "scheduled"  # a round never starts at launch
    assert env.tick(T0 + timedelta(hours=23, minutes=59)) == {}
    assert env.tick(T0 + timedelta(hours=24)) == {rid: "retarget started"}
    assert env.audience.snapshots[rid] == ["c_delivered", "c_sent"]
    assert env.audience.reasons[rid] == {"c_delivered": "not_read", "c_sent": "not_read"}
    round_ = env.w.campaigns.items[rid]
    assert (round_.status, round_.round, round_.follow_up_of, round_.audience_count) == ("running", 1, "cmp_1", 2)


def test_not_clicked_picks_readers_who_did_not_click_too():
    env = Env()
    rid = env.plan("not_clicked", after_hours=48)
    assert env.tick(T0 + timedelta(hours=47)) == {}
    env.tick(T0 + timedelta(hours=48))
    assert env.audience.snapshots[rid] == ["c_delivered", "c_read", "c_sent"]


def test_not_clicked_needs_a_tracked_link_and_less_than_24_hours_is_refused():
    with pytest.raises(Invalid, match="no tracked link"):
        Env(link=None).plan("not_clicked")
    with pytest.raises(ValidationError):
        RetargetIn.model_validate({"audience": "not_read", "after_hours": 12})


def test_failed_and_refused_sends_are_not_retargeted():
    env = Env()
    env.status("c_sent", status="failed", error_code=131026)
    rid = env.plan("not_read")
    env.tick(T0 + timedelta(days=1))
    assert env.audience.snapshots[rid] == ["c_delivered"]


def test_each_recipient_is_24_hours_past_their_own_send_before_the_round_starts():
    env = Env()
    late = T0 + timedelta(hours=20)  # a deferred send of the source that went out late
    env.status("c_sent", sent_at=iso(late))
    rid = env.plan("not_read")
    assert env.tick(T0 + timedelta(hours=30)) == {}
    assert env.w.campaigns.items[rid].schedule.at == iso(late + timedelta(hours=24))  # later ticks skip the read
    assert env.tick(late + timedelta(hours=23)) == {}
    assert env.tick(late + timedelta(hours=24)) == {rid: "retarget started"}


def test_the_round_waits_for_its_source_to_finish():
    env = Env()
    c = env.w.campaigns.items["cmp_1"]
    env.w.campaigns.items["cmp_1"] = c.model_copy(update={"status": "running"})
    rid = env.plan("not_read")
    assert env.tick(T0 + timedelta(days=2)) == {}
    env.finish("cmp_1")
    assert env.tick(T0 + timedelta(days=2)) == {rid: "retarget started"}


def test_at_most_max_followups_rounds_and_one_round_per_campaign():
    env = Env()
    first = env.plan("not_read")
    with pytest.raises(Conflict, match="already has its follow-up round") as exists:
        env.plan("not_clicked")
    assert exists.value.details == {"campaign_id": first}
    env.tick(T0 + timedelta(days=1))
    second = env.plan("not_read", source=first)
    assert env.w.campaigns.items[second].round == 2
    with pytest.raises(Conflict, match="at most 2 follow-up rounds"):
        env.plan("not_read", source=second)


def test_the_round_goes_through_the_sender_and_its_caps():
    """A promotional round a day later meets the 7-day promotional gap: the sender defers it while the
    cap clears within `max_defer_hours`, and refuses it (with the cap as reason) when it clears later."""
    env = Env(promo_gap_days=2)
    rid = env.plan("not_read")
    start = T0 + timedelta(days=1)
    env.tick(start)
    env.dispatch(start)
    env.w.clock.now = start
    outcomes = {job.customer_id: env.send(job) for job in env.jobs()}
    assert outcomes == {"c_delivered": "deferred", "c_sent": "deferred"}
    item = env.w.sends.items[("c_sent", rid)]
    assert item.state == "deferred" and item.release_at and item.release_at >= iso(T0 + timedelta(days=2))


def test_a_round_inside_the_7_day_promotional_gap_is_refused_by_the_cap():
    env = Env()
    rid = env.plan("not_read")
    start = T0 + timedelta(days=1)
    env.tick(start)
    env.dispatch(start)
    env.w.clock.now = start
    assert [env.send(job) for job in env.jobs()] == ["refused", "refused"]
    assert env.w.sends.items[("c_sent", rid)].reason == "cap:promotional"


def test_a_replayed_page_and_a_redelivered_job_send_once_per_recipient_and_round():
    env = Env(promo_gap_days=1)
    rid = env.plan("not_read")
    start = T0 + timedelta(days=1)
    env.tick(start)
    env.tick(start)  # a second tick (or a crash before the save) starts nothing more
    (page,) = env.dispatch(start)
    dispatch_page(page, start, env.ports)  # the page message redelivered
    env.w.clock.now = start
    jobs = env.jobs()
    before = len(env.w.whatsapp.sent)
    actions = [env.send(job) for job in jobs + jobs]
    assert actions.count("sent") == 2
    assert len(env.w.whatsapp.sent) - before == 2
    rounds = [i for i in env.w.sends.items.values() if i.campaign_id == rid and i.state == "sent"]
    assert sorted(i.customer_id for i in rounds) == ["c_delivered", "c_sent"]


def test_nobody_left_to_retarget_completes_the_round_without_sending():
    env = Env()
    for cid in PEOPLE:
        env.status(cid, status="read", status_rank=3, read_at=iso(T0))
    rid = env.plan("not_read")
    assert env.tick(T0 + timedelta(days=1)) == {rid: "nobody to retarget"}
    assert env.w.campaigns.items[rid].status == "completed" and env.dispatch_q.sent == []


def test_a_round_paused_before_it_starts_waits_again_when_resumed():
    env = Env()
    rid = env.plan("not_read")
    campaigns.pause(env.w.campaigns, rid, T0 + timedelta(hours=1))
    assert env.tick(T0 + timedelta(days=1)) == {}
    resumed, _ = campaign_flow.resume(env.flow, rid, T0 + timedelta(days=1))
    assert resumed.status == "scheduled" and env.dispatch_q.sent == []
    assert env.tick(T0 + timedelta(days=1)) == {rid: "retarget started"}

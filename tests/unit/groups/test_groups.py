"""Circles, invitations, membership from the group webhooks, posts under the throttle, health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.groups import health, posts, service, worker
from engage.groups.calls import GroupCall
from engage.groups.coupons import StaticCouponIssuer
from engage.groups.ports import GroupsPorts, WorkerPorts
from engage.groups.webhooks import parse_group_value
from tests.fakes.groups import (
    CountingPacer,
    FakeGroupsApi,
    ListAlerts,
    ListQueue,
    MemoryCustomers,
    MemoryGroupsStore,
    MemoryHistory,
    MemoryLinks,
    MemoryOrders,
    MemoryTags,
)

SAMPLES = Path(__file__).parents[3] / "events" / "whatsapp"
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday
LENA = "4915112345678"


def customer(n: int, wa_id: str | None = None) -> Customer:
    return Customer(id=f"c_{n:032x}", wa_id=wa_id or f"49151000000{n:02d}", name=f"Customer {n}")


def vip_orders(*ids: str) -> dict[str, list[tuple[str, float]]]:
    return {cid: [(iso(NOW - timedelta(days=30)), 120.0), (iso(NOW - timedelta(days=90)), 140.0)] for cid in ids}


@pytest.fixture
def world():
    people = [customer(n) for n in range(1, 11)] + [customer(11, LENA), customer(12, "4917700000012")]
    ports = GroupsPorts(
        store=MemoryGroupsStore(),
        customers=MemoryCustomers(people),
        queue=ListQueue(),
        coupons=StaticCouponIssuer({"group-join": "VIP15"}),
        orders=MemoryOrders(vip_orders(*(c.id for c in people))),
        tags=MemoryTags(),
        history=MemoryHistory(),
        alerts=ListAlerts(),
    )
    return ports, people


@pytest.fixture
def sender(world):
    """The sender's side: makes the queued Groups API calls, as the sender function does."""
    ports, _ = world
    return Calls(WorkerPorts(groups=ports, api=FakeGroupsApi(), pacer=CountingPacer(), links=MemoryLinks()))


class Calls:
    def __init__(self, ports: WorkerPorts):
        self.ports = ports
        self.api: FakeGroupsApi = ports.api  # type: ignore[assignment]
        self.pacer: CountingPacer = ports.pacer  # type: ignore[assignment]
        self.done = 0

    def run(self, now: datetime = NOW) -> list[str]:
        """Makes every group call queued since the last run (send jobs are left for the sender)."""
        queue = self.ports.groups.queue
        results = []
        while self.done < len(queue.bodies):
            body = queue.bodies[self.done]
            self.done += 1
            if body.get("type") == "group_call":
                try:
                    results.append(worker.execute(GroupCall.model_validate(body), self.ports, now))
                except worker.SlotUnavailable:
                    results.append("retry")
                    queue.bodies.append(body)  # SQS redelivers it later
                    break
        return results


def send_jobs(ports: GroupsPorts) -> list[dict]:
    return [b for b in ports.queue.bodies if b.get("type") == "send"]


def lifecycle(group_ref: str, request_id: str, link: str = "https://chat.whatsapp.com/Abc123") -> dict:
    return {
        "groups": [
            {
                "timestamp": "1795428000",
                "group_id": group_ref,
                "type": "group_create",
                "request_id": request_id,
                "subject": "VIP",
                "invite_link": link,
            }
        ]
    }


def apply(ports: GroupsPorts, field: str, value: dict, now: datetime = NOW) -> list[str]:
    return [service.handle_notice(ports, notice, now) for notice in parse_group_value(field, value)]


def sample(name: str) -> tuple[str, dict]:
    change = json.loads((SAMPLES / f"{name}.json").read_text())["entry"][0]["changes"][0]
    return change["field"], change["value"]


def activate(ports: GroupsPorts, sender: Calls, group_id: str, wa_group: str) -> None:
    """The sender makes the create call, then WhatsApp's lifecycle webhook confirms the group."""
    sender.run()
    request_id = ports.store.get_group(group_id).request_id
    assert apply(ports, "group_lifecycle_update", lifecycle(wa_group, request_id)) == ["created"]


def joined(wa_group: str, wa_id: str, ts: str = "1795428700") -> dict:
    item = {"timestamp": ts, "group_id": wa_group, "type": "group_participants_add", "reason": "invite_link"}
    return {"groups": [{**item, "added_participants": [{"wa_id": wa_id}]}]}


def left(wa_group: str, wa_id: str, ts: str = "1795515100") -> dict:
    item = {"timestamp": ts, "group_id": wa_group, "type": "group_participants_remove", "initiated_by": wa_id}
    return {"groups": [{**item, "removed_participants": [{"wa_id": wa_id}]}]}


def one_member_group(ports: GroupsPorts, sender: Calls, people: list[Customer]) -> str:
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    group_id = service.invite(ports, circle, [people[10].id], now=NOW).invited[0]["group_id"]
    activate(ports, sender, group_id, "wa-g")
    return group_id


# ---------------------------------------------------------------- placement
def test_the_ninth_invitee_goes_to_a_new_group_of_the_same_circle(world, sender):
    ports, people = world
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    report = service.invite(ports, circle, [c.id for c in people[:9]], now=NOW)
    groups = sorted(ports.store.groups(circle.id), key=lambda g: g.number)
    assert [g.number for g in groups] == [1, 2]
    placed = [entry["group_id"] for entry in report.invited]
    assert placed[:8] == [groups[0].id] * 8 and placed[8] == groups[1].id
    assert groups[0].seats_taken == 8 and groups[1].seats_taken == 1
    # pending groups: nothing is sent before WhatsApp confirms the group and its link
    assert send_jobs(ports) == []
    assert sender.run() == ["requested", "requested"]
    assert [subject for subject, _ in sender.api.created] == ["VIP Circle 1", "VIP Circle 2"]
    activate(ports, sender, groups[0].id, "wa-group-1")
    jobs = send_jobs(ports)
    assert len(jobs) == 8 and {j["send_key"] for j in jobs} == {f"group-invite:{groups[0].id}"}
    assert jobs[0]["message"]["variables"]["body"]["coupon"] == "VIP15"
    assert jobs[0]["message"]["variables"]["buttons"][0]["value"] == "Abc123"
    assert jobs[0]["campaign_id"] == f"group:{circle.id}"  # a source: counted like a campaign, never gated as one


def test_invitations_skip_customers_outside_the_audience_and_already_in_the_circle(world):
    ports, people = world
    days_ago = [iso(NOW - timedelta(days=n)) for n in (10, 20, 200)]
    ports.orders.orders[people[0].id] = [(days_ago[0], 500.0)]  # one order only
    ports.orders.orders[people[1].id] = [(days_ago[0], 60.0), (days_ago[1], 80.0)]  # average 70
    ports.orders.orders[people[2].id] = [(days_ago[2], 300.0), (days_ago[1], 300.0)]  # one in 6 months
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    report = service.invite(ports, circle, [people[i].id for i in range(4)], now=NOW)
    assert report.skipped["not_in_audience"] == [people[0].id, people[1].id, people[2].id]
    again = service.invite(ports, circle, [people[3].id], now=NOW)
    assert again.skipped == {"already_in_circle": [people[3].id]}


def test_a_lifecycle_webhook_faster_than_the_create_call_is_parked_then_applied(world, sender):
    ports, people = world
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    group_id = service.invite(ports, circle, [people[10].id], now=NOW).invited[0]["group_id"]
    assert apply(ports, "group_lifecycle_update", lifecycle("wa-fast", "req-1")) == ["parked"]
    assert sender.run() == ["requested"]  # the create call answered req-1 and found the parked notice
    group = ports.store.get_group(group_id)
    assert group.status == "active" and group.wa_group_id == "wa-fast"
    assert len(send_jobs(ports)) == 1


# ---------------------------------------------------------------- webhooks
def test_an_invited_customers_join_request_is_approved_and_an_uninvited_one_is_held(world, sender):
    ports, people = world
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    lena = people[10]
    group_id = service.invite(ports, circle, [lena.id], now=NOW).invited[0]["group_id"]
    sender.run()
    field, value = sample("group_created")
    value["groups"][0]["request_id"] = ports.store.get_group(group_id).request_id
    assert apply(ports, field, value) == ["created"]
    wa_group = value["groups"][0]["group_id"]
    field, value = sample("group_join_request")
    assert apply(ports, field, value) == ["approved"]
    sender.run()
    assert sender.api.approved == [(wa_group, ["jr-4915112345678"])]
    item = {"timestamp": "1795428650", "group_id": wa_group, "type": "group_join_request_created"}
    stranger = {"groups": [{**item, "join_request_id": "jr-x", "wa_id": "4917700000012"}]}
    assert apply(ports, "group_participants_update", stranger) == ["held"]
    sender.run()
    assert len(sender.api.approved) == 1
    held = ports.store.get_member(group_id, people[11].id)
    assert held is not None and held.status == "requested"
    assert service.approve_held(ports, group_id, [people[11].id]) == [people[11].id]
    sender.run()
    assert sender.api.approved[-1] == (wa_group, ["jr-x"])


def test_join_leave_and_rejoin_move_the_tag_and_the_history(world, sender):
    ports, people = world
    lena = people[10]
    group_id = one_member_group(ports, sender, people)
    assert apply(ports, "group_participants_update", joined("wa-g", LENA)) == ["joined"]
    assert ports.tags.held[lena.id] == {"group:vip-circle"}
    assert apply(ports, "group_participants_update", left("wa-g", LENA)) == ["left"]
    assert ports.tags.held[lena.id] == set()
    assert ports.store.get_group(group_id).seats_taken == 0
    assert apply(ports, "group_participants_update", joined("wa-g", LENA, ts="1795600000")) == ["joined"]
    assert ports.tags.held[lena.id] == {"group:vip-circle"}
    assert ports.store.get_group(group_id).seats_taken == 1
    kinds = sorted(e.kind for e in ports.history.events.values() if e.customer_id == lena.id)
    assert kinds == ["group_joined", "group_joined", "group_left"]
    day = iso(datetime.fromtimestamp(1795428700, UTC))[:10]
    assert ports.store.day_stats(group_id, day)["joins"] == 1


def test_a_retried_webhook_changes_nothing_the_second_time(world, sender):
    ports, people = world
    group_id = one_member_group(ports, sender, people)
    assert apply(ports, "group_participants_update", joined("wa-g", LENA)) == ["joined"]
    assert apply(ports, "group_participants_update", joined("wa-g", LENA)) == ["duplicate"]
    assert apply(ports, "group_participants_update", left("wa-g", LENA)) == ["left"]
    assert apply(ports, "group_participants_update", left("wa-g", LENA)) == ["duplicate"]
    request_id = ports.store.get_group(group_id).request_id
    assert apply(ports, "group_lifecycle_update", lifecycle("wa-g", request_id)) == ["duplicate"]
    assert len(send_jobs(ports)) == 1  # the invitation went once
    assert len(ports.history.events) == 2
    day = iso(datetime.fromtimestamp(1795428700, UTC))[:10]
    assert ports.store.day_stats(group_id, day)["joins"] == 1


def test_group_messages_count_as_activity_once_per_member_and_day(world, sender):
    ports, people = world
    group_id = one_member_group(ports, sender, people)
    apply(ports, "group_participants_update", joined("wa-g", LENA))
    at = iso(NOW)
    assert service.member_wrote(ports, "wa-g", LENA, at, NOW) is True
    assert service.member_wrote(ports, "wa-g", LENA, iso(NOW + timedelta(hours=1)), NOW) is False
    assert service.member_wrote(ports, "wa-g", "4917700000012", at, NOW) is False  # not a member
    assert ports.store.day_stats(group_id, at[:10])["active"] == 1


# ---------------------------------------------------------------- posts
def test_posts_wait_for_the_numbers_throughput_and_go_out_once(world, sender):
    ports, people = world
    group = ports.store.get_group(one_member_group(ports, sender, people))
    for n in range(3):
        posts.schedule_post(ports, group, kind="tip", text=f"Tip {n}", now=NOW + timedelta(seconds=n))
    offer = posts.schedule_post(
        ports, group, kind="offer", text="-20% today", link="https://shop.example/sale", now=NOW + timedelta(seconds=5)
    )
    assert posts.queue_due_posts(ports, NOW + timedelta(minutes=1)) == {"queued": 4, "waiting": 0, "skipped": 0}
    assert posts.queue_due_posts(ports, NOW + timedelta(minutes=2))["queued"] == 0  # queued once
    sender.pacer.free = 2
    assert sender.run() == ["sent", "sent", "retry"]  # the number's slots ran out: back to the queue
    sender.pacer.free = 10
    assert sender.run() == ["sent", "sent"]
    texts = sorted(text for _, text in sender.api.sent)  # a call given back is redelivered later, out of order
    assert texts == ["-20% today\nhttps://go.example/r/L0000001", "Tip 0", "Tip 1", "Tip 2"]
    sent_offer = ports.store.post_items[offer.id]
    assert sent_offer.status == "sent" and sent_offer.link_code == "L0000001"
    assert sent_offer.valid_until == iso(NOW + timedelta(seconds=5, hours=24))
    redelivered = GroupCall(op="post", group_id=group.id, post_id=offer.id)
    assert worker.execute(redelivered, sender.ports, NOW) == "not_queued"  # SQS redelivery: not sent again
    assert len(sender.api.sent) == 4


def test_an_offer_not_sent_within_its_24_hours_is_skipped(world, sender):
    ports, people = world
    group = ports.store.get_group(one_member_group(ports, sender, people))
    posts.schedule_post(ports, group, kind="offer", text="Flash", now=NOW)
    posts.queue_due_posts(ports, NOW)
    assert sender.run(NOW + timedelta(hours=25)) == ["expired"]
    assert sender.api.sent == []


def test_an_interactive_post_is_a_numbered_question_because_groups_refuse_interactive_messages(world):
    ports, _ = world
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    group = service.create_group(ports, circle, now=NOW)
    with pytest.raises(Exception, match="interactive messages are not allowed"):
        posts.schedule_post(ports, group, kind="interactive", text="Which colour next?", now=NOW)
    post = posts.schedule_post(ports, group, kind="interactive", text="Which colour? 1 red 2 blue", now=NOW)
    assert post.text.endswith("Answer with the number of your choice.")


def test_the_weekly_plan_follows_the_playbook():
    assert posts.plan_counts() == {"offer": 2, "story": 3, "tip": 7, "interactive": 1, "customer": 2}
    slots = posts.weekly_slots(NOW + timedelta(days=2))
    assert len(slots) == 15 and slots[0][1].date() == NOW.date()
    assert slots == sorted(slots, key=lambda s: s[1])


# ---------------------------------------------------------------- health
def test_activity_and_click_rates():
    day = health.DayHealth(members=8, active=3, clicks=5, offers=1, joins=2, leaves=1)
    config = MemoryGroupsStore().config()
    assert day.activity_rate == 0.375 and day.click_rate == 0.625
    assert day.healthy(config) is False  # 37.5% < 40%
    assert health.DayHealth(members=5, active=2, clicks=0, offers=0, joins=0, leaves=0).healthy(config)
    assert health.DayHealth(members=5, active=4, clicks=1, offers=1, joins=0, leaves=0).click_rate == 0.2
    assert health.DayHealth(members=2, active=2, clicks=9, offers=1, joins=0, leaves=0).click_rate == 1.0
    assert health.DayHealth(members=0, active=0, clicks=0, offers=0, joins=0, leaves=0).activity_rate == 0.0


def test_a_week_below_range_raises_one_alert(world, sender):
    ports, people = world
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    group_id = service.invite(ports, circle, [people[i].id for i in range(5)], now=NOW).invited[0]["group_id"]
    activate(ports, sender, group_id, "wa-g")
    for c in people[:5]:
        apply(ports, "group_participants_update", joined("wa-g", c.wa_id))
    alerts = []
    for d in range(1, 9):
        now = NOW + timedelta(days=d)
        yesterday = iso(now - timedelta(days=1))
        service.member_wrote(ports, "wa-g", people[0].wa_id, yesterday, now)  # 1 of 5 active: 20%
        alerts.append(health.daily_health(ports, now)["alerts"])
    assert alerts == [0, 0, 0, 0, 0, 0, 1, 0]
    assert ports.alerts.published[0]["kind"] == "group_unhealthy"


def test_a_silent_member_and_one_who_left_get_one_reactivation_message(world, sender):
    ports, people = world
    circle = service.create_circle(ports, name="VIP Circle", now=NOW)
    invited = service.invite(ports, circle, [people[0].id, people[1].id, people[2].id], now=NOW)
    activate(ports, sender, invited.invited[0]["group_id"], "wa-g")
    joined_at = str(int((NOW - timedelta(days=20)).timestamp()))
    for c in people[:3]:
        apply(ports, "group_participants_update", joined("wa-g", c.wa_id, ts=joined_at))
    service.member_wrote(ports, "wa-g", people[1].wa_id, iso(NOW - timedelta(days=2)), NOW)
    apply(ports, "group_participants_update", left("wa-g", people[2].wa_id, ts=str(int(NOW.timestamp()) - 3600)))
    invitations = len(send_jobs(ports))
    health.daily_health(ports, NOW)
    jobs = send_jobs(ports)[invitations:]
    assert sorted(j["customer_id"] for j in jobs) == sorted([people[0].id, people[2].id])
    assert {j["message"]["template"] for j in jobs} == {"group_reactivation"}
    assert all(j["category"] == "marketing" for j in jobs)  # 1:1 marketing rules: quiet hours defer it
    health.daily_health(ports, NOW + timedelta(days=1))
    assert len(send_jobs(ports)) == invitations + 2  # the cooldown: not again tomorrow


def test_the_early_warning_message_waits_for_the_end_of_quiet_hours(world, sender):
    """The reactivation message is a 1:1 marketing send job: the sender's rules defer it out of quiet hours."""
    from engage.delivery.config import SendingConfig
    from engage.delivery.jobs import SendJob
    from engage.delivery.policy import decide

    ports, people = world
    late = datetime(2026, 11, 16, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    circle = service.create_circle(ports, name="VIP Circle", now=late)
    group_id = service.invite(ports, circle, [people[0].id], now=late).invited[0]["group_id"]
    activate(ports, sender, group_id, "wa-g")
    joined_at = str(int((late - timedelta(days=15)).timestamp()))
    apply(ports, "group_participants_update", joined("wa-g", people[0].wa_id, ts=joined_at))
    before = len(send_jobs(ports))
    health.daily_health(ports, late)
    [job] = [SendJob.model_validate(j) for j in send_jobs(ports)[before:]]
    quiet_customer = people[0].model_copy(update={"timezone": "Europe/Berlin", "consent": Consent(marketing=True)})
    decision = decide(job, quiet_customer, [], SendingConfig(), late)
    assert (decision.action, decision.reason) == ("defer", "quiet_hours")
    assert decision.until is not None and decision.until.astimezone(UTC).hour >= 7  # 08:00 Berlin or later

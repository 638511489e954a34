"""Referral rules and flow on in-memory fakes: who may be attributed, the threshold, tiers, the cap,
the hourly lock, and reward messages that the sender defers through quiet hours and never drops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob
from engage.rewards import coupons, referrals
from engage.rewards.config import ReferralConfig, Tier
from engage.rewards.coupons import PoolIn
from engage.rewards.referrals import ReferralPorts
from engage.segments.evaluator import evaluate
from engage.segments.text import from_text
from engage.segments.validation import validate
from tests.fakes.rewards import FakeCoupons, FakeQueue, FakeReferralProfiles, FakeReferrals, FakeTags
from tests.fakes.segments import InMemoryAudience
from tests.fakes.sending import FakeCustomers, world

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ASHA = Customer(id="c_asha", wa_id="4915123456789", user_id="DE.1000000000000000001", name="Asha")


class Programme:
    def __init__(self, **settings) -> None:
        self.coupons = FakeCoupons()
        for pool_id, discount in (
            ("tier1", "10% off"),
            ("tier5", "20% off"),
            ("tier10", "30% off"),
            ("welcome", "5% off"),
        ):
            given = PoolIn(name=pool_id, discount=discount, valid_hours=72, one_per_customer=False)
            coupons.create_pool(self.coupons, given, pool_id, T0)
        tiers = [
            Tier(at=1, tag="referral:tier-1", pool_id="tier1"),
            Tier(at=5, tag="referral:tier-5", pool_id="tier5"),
            Tier(at=10, tag="referral:tier-10", pool_id="tier10"),
        ]
        self.config = ReferralConfig(tiers=tiers, welcome_pool_id="welcome", business_number="4930123456", **settings)
        self.customers = FakeCustomers()
        self.customers.add(ASHA.model_copy())
        self.ports = ReferralPorts(
            referrals=FakeReferrals(self.config),
            coupons=self.coupons,
            customers=self.customers,
            queue=FakeQueue(),
            tags=FakeTags(),
            profiles=FakeReferralProfiles(self.customers),
        )
        self.code = referrals.ensure_code(self.ports.referrals, ASHA.id, T0)[0].code
        self.n = 0

    def invite(self, *, at: datetime = T0, customer: Customer | None = None, code: str | None = None) -> str:
        self.n += 1
        invitee = customer or Customer(id=f"c_inv{self.n}", wa_id=f"49170000{self.n:04d}", first_seen_at=iso(at))
        if self.customers.get(invitee.id) is None:
            self.customers.add(invitee)
        item = {
            "customer_id": invitee.id,
            "kind": "message",
            "event_id": f"wamid.{self.n}",
            "occurred_at": iso(at),
            "data": {"text": f"hi ref {code or self.code.lower()}", "referral_code": code or self.code.lower()},
        }
        assert referrals.attribute(self.ports, item, self.config) is not None
        return invitee.id

    def buy(self, invitee_id: str, total: float, *, at: datetime = T0 + timedelta(days=1)) -> str | None:
        item = {
            "customer_id": invitee_id,
            "kind": "order_placed",
            "event_id": f"ord-{invitee_id}-{iso(at)}",
            "occurred_at": iso(at),
            "data": {"order_id": f"o-{invitee_id}", "total": total, "currency": "EUR", "items": []},
        }
        return referrals.reward_on_order(self.ports, item, self.config, at)

    def state(self, invitee_id: str) -> str:
        found = self.ports.referrals.attribution(invitee_id)
        assert found is not None
        return found.state

    def jobs(self, customer_id: str | None = None) -> list[SendJob]:
        found = [SendJob.model_validate(b) for b in self.ports.queue.bodies]  # type: ignore[attr-defined]
        return [j for j in found if customer_id is None or j.customer_id == customer_id]


def test_the_referral_link_prefills_ref_code_on_the_business_number():
    p = Programme()
    code = p.ports.referrals.code_of(ASHA.id)
    view = referrals.referral_view(code, p.config, "data:image/svg+xml,x")
    assert view["link"] == f"https://wa.me/4930123456?text=ref%20{p.code}"
    assert len(p.code) >= 8 and referrals.ensure_code(p.ports.referrals, ASHA.id, T0) == (code, False)


@pytest.mark.parametrize(
    ("invitee", "reason"),
    [
        (ASHA, "self_referral:customer"),
        (Customer(id="c_twin", wa_id=ASHA.wa_id), "self_referral:phone"),
        (Customer(id="c_bsuid", wa_id="4917099999999", user_id=ASHA.user_id), "self_referral:user_id"),
        (
            Customer(id="c_old", wa_id="4917088888888", orders=1, first_order_at=iso(T0 - timedelta(days=30))),
            "returning_customer:bought",
        ),
    ],
)
def test_self_referrals_and_returning_customers_are_never_rewarded(invitee, reason):
    p = Programme()
    p.invite(customer=invitee)
    found = p.ports.referrals.attribution(invitee.id)
    assert (found.state, found.reason) == ("rejected", reason)
    assert p.buy(invitee.id, 500) is None and p.jobs() == []


def test_an_unknown_code_attributes_nothing():
    p = Programme()
    p.invite(code="NOSUCHCODE")
    assert p.ports.referrals.attributions == {}


def test_a_first_order_of_198_99_is_not_enough_and_199_is():
    p = Programme()
    short, enough = p.invite(), p.invite()
    assert p.buy(short, 198.99) == "below_threshold"
    assert p.buy(short, 500, at=T0 + timedelta(days=2)) is None  # a later, bigger order does not count
    assert p.buy(enough, 199) == "rewarded"
    assert (p.state(short), p.state(enough)) == ("below_threshold", "qualified")
    [reward] = p.jobs(ASHA.id)
    [welcome] = p.jobs(enough)
    assert reward.send_key == f"referral:reward:{enough}" and reward.campaign_id == "referral"
    assert reward.message.variables["body"][1] == "10% off"
    code = reward.message.variables["body"][0]
    assert p.coupons.coupon(code).customer_id == ASHA.id
    assert welcome.message.template == "referral_welcome" and p.jobs(short) == []


def test_a_replayed_order_rewards_once():
    p = Programme()
    invitee = p.invite()
    assert p.buy(invitee, 250) == "rewarded"
    assert p.buy(invitee, 250) is None
    assert len(p.jobs()) == 2 and p.ports.referrals.code_of(ASHA.id).successful == 1


def test_a_crash_after_qualifying_is_finished_by_the_retry_with_the_same_codes():
    p = Programme()
    invitee = p.invite()
    p.ports.referrals.mark_notified = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        p.buy(invitee, 250)
    first = [j.message.variables["body"][0] for j in p.jobs()]
    del p.ports.referrals.mark_notified
    p.buy(invitee, 250)  # the stream retries the record
    assert [j.message.variables["body"][0] for j in p.jobs()] == first * 2  # same codes, same send keys
    assert {j.send_key for j in p.jobs()} == {f"referral:reward:{invitee}", f"referral:welcome:{invitee}"}


def test_tiers_at_1_5_and_10_tag_the_inviter_and_raise_the_reward():
    p = Programme()
    for _ in range(10):
        assert p.buy(p.invite(), 300) == "rewarded"
    tags = {tag for (cid, tag) in p.ports.tags.added if cid == ASHA.id}  # type: ignore[attr-defined]
    assert tags == {"referral:tier-1", "referral:tier-5", "referral:tier-10"}
    pools = [p.coupons.coupon(j.message.variables["body"][0]).pool_id for j in p.jobs(ASHA.id)]
    assert pools == ["tier1"] * 4 + ["tier5"] * 5 + ["tier10"]


def test_at_most_ten_invites_are_rewarded_per_person():
    p = Programme()
    invitees = [p.invite() for _ in range(12)]
    outcomes = [p.buy(i, 300) for i in invitees]
    assert outcomes == ["rewarded"] * 10 + ["qualified"] * 2
    inviter = p.ports.referrals.code_of(ASHA.id)
    assert (inviter.successful, inviter.rewarded) == (12, 10)
    assert len(p.jobs(ASHA.id)) == 10 and all(p.jobs(i) for i in invitees)  # invitees still get their welcome


def test_a_concurrent_qualify_of_the_same_inviter_is_retried_not_lost():
    p = Programme()
    invitee = p.invite()
    p.ports.referrals.fail_next_qualify = 2  # type: ignore[attr-defined]
    assert p.buy(invitee, 300) == "rewarded"


def test_more_than_50_invitations_in_an_hour_lock_the_code_until_an_admin_unlocks_it():
    p = Programme()
    first = [p.invite(at=T0 + timedelta(seconds=n)) for n in range(50)]
    assert {p.state(i) for i in first} == {"pending"}
    held = p.invite(at=T0 + timedelta(minutes=30))
    assert p.state(held) == "held" and p.ports.referrals.owner(p.code).locked
    later = p.invite(at=T0 + timedelta(hours=3))  # still locked in a quiet hour: held for review
    assert p.state(later) == "held"
    assert p.buy(held, 300) is None and p.jobs(ASHA.id) == []
    result = referrals.unlock(p.ports.referrals, p.code.lower(), "admin@shop.example", T0 + timedelta(hours=4))
    assert result["released"] == 2 and not p.ports.referrals.owner(p.code).locked
    assert [c for _, c, _ in p.ports.referrals.log] == ["lock", "unlock"]  # type: ignore[attr-defined]
    assert p.buy(held, 300, at=T0 + timedelta(days=1)) == "rewarded"


def test_fifty_invitations_spread_over_two_hours_do_not_lock():
    p = Programme()
    for n in range(60):
        p.invite(at=T0 + timedelta(minutes=2 * n))  # 30 an hour
    assert not p.ports.referrals.owner(p.code).locked


def test_a_reward_in_quiet_hours_is_deferred_by_the_sender_and_sent_in_the_morning():
    """The reward job goes through the real sender: at 23:30 in Berlin it is deferred to 08:00 with
    the job kept on the send item, and sent then with the code; nothing is dropped."""
    p = Programme()
    invitee = p.invite()
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert p.buy(invitee, 250, at=late) == "rewarded"
    [job] = p.jobs(ASHA.id)
    w = world(start=late)
    w.customers.add(ASHA.model_copy(update={"consent": Consent(marketing=True, updated_at=iso(T0), source="keyword")}))
    outcome = w.sender.handle(job)
    assert (outcome.action, outcome.reason) == ("deferred", "quiet_hours")
    assert outcome.until == "2026-11-24T07:00:00Z"  # 08:00 in Berlin
    stored = w.sends.items[(ASHA.id, job.send_key)]
    assert stored.state == "deferred" and stored.job is not None and w.whatsapp.sent == []
    w.clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    [due] = list(w.sends.due(w.clock.now, 10))
    again = w.sender.handle(SendJob.model_validate(due.job))
    assert again.action == "sent"
    [(_, message)] = w.whatsapp.sent
    assert message.template == "referral_reward" and message.body[0] == job.message.variables["body"][0]
    assert w.sender.handle(SendJob.model_validate(due.job)).action == "noop"  # a duplicate sends nothing


def test_no_reward_pool_means_no_message_and_a_recorded_reason():
    p = Programme(double_sided=False)
    p.config.tiers[0].pool_id = None
    invitee = p.invite()
    p.buy(invitee, 250)
    assert p.jobs() == []
    assert p.ports.referrals.attribution(invitee).outcome == {"tier": "referral:tier-1", "reward": "no_pool"}


def segment(p: Programme, text: str) -> list[str]:
    """Who the segment rule picks among the programme's customers (their stored profiles)."""
    rule = from_text(text)
    validate(rule, [])
    reader = InMemoryAudience(list(p.customers.items.values()), {})
    return evaluate(rule, reader, [], now=T0 + timedelta(days=3)).ids


def test_after_a_qualifying_order_the_invitee_is_referred_by_the_code_and_the_inviter_counts_one():
    p = Programme()
    invitee, short = p.invite(), p.invite()
    rejected = p.invite(customer=Customer(id="c_twin", wa_id=ASHA.wa_id))
    assert segment(p, f"referred_by:{p.code}") == sorted([invitee, short])  # attributed, not yet bought
    assert segment(p, "referrals >= 1") == []
    assert p.buy(short, 198.99) == "below_threshold"
    assert segment(p, "referrals >= 1") == []
    assert p.buy(invitee, 199) == "rewarded"
    assert segment(p, "referrals >= 1") == [ASHA.id]
    assert segment(p, f"referred_by:{p.code} AND NOT referrals >= 1") == sorted([invitee, short])
    assert rejected not in segment(p, f"referred_by:{p.code}")  # a self-referral is nobody's invitee


def test_the_profile_count_follows_the_programmes_counter_under_replays():
    p = Programme()
    first, second = p.invite(), p.invite()
    p.buy(first, 250)
    p.buy(second, 250)
    p.buy(first, 250)  # the stream replays the first order
    assert p.customers.get(ASHA.id).referrals == 2 == p.ports.referrals.code_of(ASHA.id).successful
    assert segment(p, "referrals >= 2") == [ASHA.id] and segment(p, "referrals >= 3") == []
    p.ports.profiles.set_referrals(ASHA.id, 1)  # a late retry of an older count never lowers it
    assert p.customers.get(ASHA.id).referrals == 2


def test_a_crash_before_referred_by_is_written_is_repaired_by_the_replay():
    p = Programme()
    mark = p.ports.profiles.mark_referred
    p.ports.profiles.mark_referred = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        p.invite()
    invitee = "c_inv1"
    assert p.customers.get(invitee).referred_by is None
    p.ports.profiles.mark_referred = mark  # type: ignore[method-assign]
    item = {
        "customer_id": invitee,
        "kind": "message",
        "event_id": "wamid.1",
        "occurred_at": iso(T0),
        "data": {"referral_code": p.code},
    }
    assert referrals.attribute(p.ports, item, p.config) == "duplicate"
    assert p.customers.get(invitee).referred_by == p.code

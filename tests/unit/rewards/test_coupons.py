"""Codes and coupon rules on in-memory fakes, and a campaign's {{coupon}} through the real sender."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.groups.coupons import StaticCouponIssuer
from engage.rewards import codes, coupons
from engage.rewards.coupons import PoolIn, PoolIssuer
from tests.fakes.rewards import FakeCoupons
from tests.fakes.sending import T0, add_campaign, world


def make_pool(store: FakeCoupons, pool_id: str = "p1", **kw) -> None:
    given = PoolIn(name="Winter", prefix="WINTER", discount="15% off", valid_hours=24, **kw)
    coupons.create_pool(store, given, pool_id, T0)


def test_codes_use_the_unambiguous_alphabet_and_do_not_repeat():
    made = {codes.new_coupon_code("X") for _ in range(5000)}
    assert len(made) == 5000
    assert all(len(c) == 10 and not set(c[2:]) & set("01ILO") for c in made)
    assert codes.normalise(" winter-k7q9 m2xp ") == "WINTER-K7Q9M2XP"


def test_the_shops_csv_is_read_from_its_first_column():
    found, rejected = codes.parse_codes_csv('code,amount\n"abc-1234",10\nABC-1234,10\n\nno way,1\nXYZ98765\n')
    assert found == ["ABC-1234", "XYZ98765"] and rejected == ["no way"]


def test_two_issuers_interleaved_on_one_claim_end_with_one_code():
    """Issuer A reads no claim, issuer B issues, then A writes: the store refuses A's claim and A
    answers with B's code (the conditional claim is what makes the race safe)."""
    store = FakeCoupons()
    make_pool(store)
    real_claimed = store.claimed
    calls = {"n": 0}

    def claimed(pool_id: str, claim: str) -> str | None:
        calls["n"] += 1
        if calls["n"] == 1:  # A's first look, before B runs
            b_code = coupons.issue(store, pool_id, "c_1", "campaign:x", T0).code
            assert b_code is not None
            return None
        return real_claimed(pool_id, claim)

    store.claimed = claimed  # type: ignore[method-assign]
    a_code = coupons.issue(store, "p1", "c_1", "campaign:x", T0).code
    assert a_code == real_claimed("p1", "c_1") and store.pool("p1").issued == 1


def test_first_n_counts_redemptions_not_issues():
    store = FakeCoupons()
    make_pool(store, first_n=1)
    first, second = (coupons.issue(store, "p1", f"c_{n}", "r", T0).code for n in (1, 2))
    assert first and second  # both may hold a code: the first to redeem wins

    def order(n: int, code: str) -> dict:
        return {
            "customer_id": f"c_{n}",
            "kind": "order_placed",
            "event_id": f"o{n}",
            "occurred_at": iso(T0 + timedelta(hours=n)),
            "data": {"order_id": f"o{n}", "total": 20.0, "coupon": code},
        }

    assert coupons.redeem_order(store, order(1, first)) == "redeemed"
    assert coupons.redeem_order(store, order(2, second)) == "first_n_reached"
    assert coupons.redeem_order(store, order(1, first)) == "duplicate"
    assert store.pool("p1").redeemed == 1


@pytest.mark.parametrize(("seconds", "state"), [(-1, "issued"), (0, "expired"), (1, "expired")])
def test_validity_ends_exactly_at_its_edge(seconds, state):
    store = FakeCoupons()
    make_pool(store, valid_until=iso(T0 + timedelta(hours=12)))  # the fixed end comes before 24 hours
    code = coupons.issue(store, "p1", "c_1", "r", T0).code
    coupon = store.coupon(code)
    assert coupon.expires_at == iso(T0 + timedelta(hours=12))
    assert coupon.state_at(T0 + timedelta(hours=12, seconds=seconds)) == state


def test_a_campaign_with_a_pool_gives_each_recipient_their_own_code():
    w = world()
    store = FakeCoupons()
    make_pool(store)
    w.sender.ports.coupons = PoolIssuer(store)
    add_campaign(w, coupon_pool="p1")
    sent = []
    for n in (1, 2):
        c = w.customers.add(Customer(id=f"c_{n}", wa_id=f"4915123400{n}", name="Asha", consent=Consent(marketing=True)))
        message = TemplateMessage(template="winter", variables={"body": ["{{name}}", "{{coupon}}"]})
        job = SendJob(customer_id=c.id, send_key="cmp_1", campaign_id="cmp_1", variant="A", message=message)
        assert w.sender.handle(job).action == "sent"
        w.clock.advance(seconds=10)
        sent.append(w.whatsapp.sent[-1][1].body[1])
    assert len(set(sent)) == 2 and all(s.startswith("WINTER-") for s in sent)
    assert [store.coupon(s).customer_id for s in sent] == ["c_1", "c_2"]


def test_a_campaign_whose_pool_cannot_give_a_code_refuses_the_send_with_a_reason():
    w = world()
    store = FakeCoupons()
    make_pool(store)
    store.update_pool("p1", {"status": "closed"})
    w.sender.ports.coupons = PoolIssuer(store)
    add_campaign(w, coupon_pool="p1")
    c = w.customers.add(Customer(id="c_1", wa_id="491512340001", name="Asha", consent=Consent(marketing=True)))
    message = TemplateMessage(template="winter", variables={"body": ["{{coupon}}"]})
    outcome = w.sender.handle(SendJob(customer_id=c.id, send_key="cmp_1", campaign_id="cmp_1", message=message))
    assert (outcome.action, outcome.reason) == ("refused", "coupon_unavailable:p1")
    assert w.whatsapp.sent == []


def test_the_lint_knows_coupon_and_referral_variables():
    from engage.campaigns.templates import lint_variables

    texts = ["Hi {{name}}, {{coupon}} is yours. Invite friends: {{referral_link}} {{shoe_size}}"]
    warnings = lint_variables(texts, has_coupon=False, fallbacks={})
    assert any(w.startswith("{{coupon}}: name a coupon_pool") for w in warnings)
    assert any("{{shoe_size}} is read from the customer's attributes" in w for w in warnings)
    assert not any("referral_link" in w for w in warnings)
    assert lint_variables(texts, has_coupon=True, fallbacks={"shoe_size": "your size"}) == []


def test_a_message_with_referral_variables_carries_the_recipients_own_link():
    from engage.rewards.config import ReferralConfig
    from engage.rewards.referrals import ReferralLinks
    from tests.fakes.rewards import FakeReferrals

    w = world()
    referrals = FakeReferrals(ReferralConfig(business_number="4930123456"))
    w.sender.ports.referrals = ReferralLinks(referrals)
    add_campaign(w)
    c = w.customers.add(Customer(id="c_1", wa_id="491512340001", name="Asha", consent=Consent(marketing=True)))
    message = TemplateMessage(template="winter", variables={"body": ["{{name}}", "{{referral_link}}"]})
    assert (
        w.sender.handle(SendJob(customer_id=c.id, send_key="cmp_1", campaign_id="cmp_1", message=message)).action
        == "sent"
    )
    code = referrals.code_of("c_1").code
    assert w.whatsapp.sent[-1][1].body == ["Asha", f"https://wa.me/4930123456?text=ref%20{code}"]


def test_a_pool_issuer_with_a_fallback_gives_unique_codes_from_its_pool_and_the_fallback_elsewhere():
    """Journeys and group invitations name a pool; until the shop creates it, their static code is used."""
    store = FakeCoupons()
    make_pool(store)
    issuer = PoolIssuer(store, fallback=StaticCouponIssuer(default="VIP15"))
    first, second = issuer.issue("p1", "c1", "group:vip", T0), issuer.issue("p1", "c2", "group:vip", T0)
    assert first and second and first != second and first.startswith("WINTER")
    assert issuer.issue("p1", "c1", "group:vip", T0) == first  # the same claim, the same code
    assert issuer.issue("no-such-pool", "c1", "group:vip", T0) == "VIP15"
    assert PoolIssuer(store).issue("no-such-pool", "c1", "group:vip", T0) is None

"""2,000 customers, 30 simulated days, three overlapping campaigns, a WhatsApp that sometimes says no.

The real dispatcher, sender, release job and campaign tick run on in-memory ports with a virtual
clock (the loop in tests/helpers/simulation.py). An independent checker watches every message
WhatsApp accepts and counts violations of consent, caps, windows/quiet hours, the pair limit and
the 24-hour rule; at the end every job must be sent, deferred with a reason, or refused with a
reason (nothing lost, nothing twice).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from engage.core.time import iso, parse_iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.outbound import Outbound
from tests.fakes.sending import T0, FakeAudience
from tests.helpers.simulation import COUNTRIES, HOUR, SendingSimulation, make_campaign

DAYS = 30
PEOPLE = 2000


def population(rng: random.Random) -> list[Customer]:
    people = []
    for i in range(PEOPLE):
        country, prefix, zone = COUNTRIES[i % len(COUNTRIES)]
        idle = rng.choice([1, 5, 20, 45, 100, 200])
        people.append(
            Customer(
                id=f"c_{i:06x}",
                wa_id=f"{prefix}{i:07d}",
                name=None if i % 50 == 0 else f"Kim{i}",
                country=country,
                timezone=zone,
                consent=Consent(marketing=rng.random() < 0.85),
                undeliverable=rng.random() < 0.01,
                last_interaction_at=iso(T0 - timedelta(days=idle)),
                last_inbound_at=iso(T0 - timedelta(hours=rng.choice([2, 20, 30, 400]))),
                first_order_at=iso(T0 - timedelta(days=1)) if i % 40 == 0 else None,
            )
        )
    return people


class Checker:
    """Re-derives every rule from the playbook's numbers (docs/sending.md), independently of engage.delivery.policy."""

    def __init__(self, people: dict[str, Customer], content: dict[str, str], w) -> None:
        self.people, self.content, self.w = people, content, w
        self.by_phone = {c.wa_id: c.id for c in people.values()}
        self.sends: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self.violations: Counter[str] = Counter()

    def check(self, at: datetime, message: Outbound) -> None:
        customer_id, campaign_id = message.callback_data.split("|")
        c = self.w.customers.items[customer_id]  # the customer as stored at send time
        content = self.content[campaign_id]
        local = at.astimezone(ZoneInfo(c.timezone or "UTC"))
        if not c.consent.marketing:
            self.violations["consent"] += 1
        if c.undeliverable:
            self.violations["undeliverable"] += 1
        if local.hour >= 22 or local.hour < 8:
            self.violations["quiet_hours"] += 1
        if message.kind != "template" and at - parse_iso(c.last_inbound_at or "2000-01-01T00:00:00Z") >= timedelta(
            hours=24
        ):
            self.violations["24h_rule"] += 1
        history = self.sends[customer_id]
        if history and (at - history[-1][0]).total_seconds() < 6:
            self.violations["pair_limit"] += 1
        self.check_caps(c, at, content, history)
        history.append((at, content))

    def check_caps(self, c: Customer, at: datetime, content: str, history: list[tuple[datetime, str]]) -> None:
        def within(days: float, kind: str | None = None) -> list[datetime]:
            return [t for t, k in history if at - t < timedelta(days=days) and (kind is None or k == kind)]

        new = c.first_order_at and at - parse_iso(c.first_order_at) <= timedelta(days=3)
        if content == "promotional":
            if new and len(within(1, "promotional")) >= 1:
                self.violations["cap_new_daily"] += 1
            if not new and (within(7, "promotional") or len(within(30, "promotional")) >= 2):
                self.violations["cap_promotional"] += 1
        if content == "useful" and within(7, "useful"):
            self.violations["cap_useful"] += 1
        idle = at - parse_iso(c.last_interaction_at or iso(at))
        if idle <= timedelta(days=30) and len(within(7)) >= 3:
            self.violations["cap_active"] += 1
        if idle >= timedelta(days=90) and within(14):
            self.violations["cap_dormant"] += 1
        days = {t.date() for t, _ in history}
        if at.date() not in days and all(at.date() - timedelta(days=k) in days for k in (1, 2, 3)):
            self.violations["consecutive_days"] += 1


class Simulation(SendingSimulation):
    def __init__(self, seed: int = 7) -> None:
        super().__init__(random.Random(seed), messaging_tier=100_000, first_tick=T0.replace(minute=0) + HOUR)
        w = self.w
        self.people = {c.id: w.customers.add(c) for c in population(self.rng)}
        self.ids = ids = sorted(self.people)
        plan = [
            make_campaign("cmp_promo", "all", "promotional", T0),
            make_campaign("cmp_tips", "half", "useful", T0 + timedelta(days=1, hours=3), rate=600),
            make_campaign("cmp_chat", "third", "useful", T0 + timedelta(days=2), text=True),
        ]
        audience = FakeAudience({"all": ids, "half": ids[::2], "third": ids[::3]})
        self.launch(plan, audience, T0 - timedelta(minutes=1))
        self.checker = Checker(self.people, {c.id: c.content for c in self.plan}, w)

    def every_hour(self, now: datetime) -> None:
        for customer_id in self.rng.sample(self.ids, 15):  # customers write in: service windows open
            self.w.customers.update(customer_id, last_inbound_at=iso(now), last_interaction_at=iso(now))


def max_per_second(times: list[datetime]) -> int:
    return max(sum(1 for u in times[i : i + 50] if u - t < timedelta(seconds=1)) for i, t in enumerate(times))


def test_thirty_days_three_campaigns_no_violation_nothing_lost():
    sim = Simulation()
    sim.run(T0 + timedelta(days=DAYS))
    w, accepted = sim.w, sim.whatsapp.accepted

    # Then: no rule was ever broken
    assert sim.checker.violations == Counter(), sim.checker.violations
    # and every job ended sent, deferred with a reason, or refused with a reason; none twice
    assert len(sim.dispatched) == sum(len(sim.audience.snapshots[c.id]) for c in sim.plan)
    states: Counter[str] = Counter()
    for key in sim.dispatched:
        item = w.sends.get(*key)
        assert item is not None, key
        assert item.state in ("sent", "deferred", "refused", "failed"), (key, item.state)
        assert item.state == "sent" or item.reason, (key, item)
        states[item.state] += 1
    assert max(Counter(m.callback_data for _, m in accepted).values()) == 1
    assert states["sent"] == len(accepted) > 1000
    reasons = Counter(i.reason for i in w.sends.items.values() if i.state != "sent")
    assert reasons["no_consent"] > 0 and reasons["needs_template"] > 0 and reasons["cap:activity"] > 0
    assert sim.handled["deferred"] > 0 and sim.handled["retry"] > 0
    for campaign in sim.plan:  # the campaign rate held in every second
        times = sorted(t for t, m in accepted if m.callback_data.endswith(campaign.id))
        assert times and max_per_second(times) <= (campaign.rate_per_minute or 180) / 60

"""The 90-day journey simulation: every default journey enabled, three overlapping campaigns and a
retargeting round of the promotion (to those who did not read it, a week after their send).

10,000 customers in six countries; every simulated hour some abandon carts, order, write in,
opt in or out, and the tagger's rules tag some `intent:high` or `rfm:vip`; the daily sweep
enters the dormant. The real journey engine, dispatcher, sender, release job and campaign tick
run on in-memory ports with a virtual clock; WhatsApp answers with error codes now and then.

An independent checker (its own code: it re-derives each rule from the playbook's numbers, it
calls nothing of engage.delivery) watches every message WhatsApp accepts and counts violations of
consent and opt-out, the frequency caps, quiet hours, the pair limit, the 24-hour rule, and
duplicates. At the end every run must be in a known state: done (converted, or exited with a
reason) or waiting with a due time.

`python -m bench journeys_sim` (10,000 customers, 90 days); the test suite runs a small one.
"""

from __future__ import annotations

import heapq
import logging
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engage.campaigns import campaign as campaigns
from engage.campaigns import retarget
from engage.campaigns.retarget import RetargetIn
from engage.campaigns.templates import Template
from engage.core.observability import logger
from engage.core.time import iso, parse_iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.outbound import Outbound
from engage.journeys import engine, service
from engage.journeys.defaults import DEFAULTS
from engage.journeys.runs import Run
from engage.tagging.catalog import TagChange
from tests.fakes.journeys import FakeRuns, JourneyWorld
from tests.fakes.sending import T0, FakeAudience, FakeTemplates
from tests.helpers.simulation import COUNTRIES, MINUTE, SendingSimulation, make_campaign

QUIET_START, QUIET_END = 22, 8  # playbook: nothing 22:00-08:00 local
PAIR_SECONDS = 6
SERVICE_WINDOW = timedelta(hours=24)


class IndexedRuns(FakeRuns):
    """FakeRuns with a due-time heap (the due index), so the sweep does not look at every run."""

    def __init__(self) -> None:
        super().__init__()
        self.heap: list[tuple[str, str, str]] = []
        self.superseded: list[Run] = []  # runs a re-entry replaced (the item holds the latest run)

    def _index(self, run: Run) -> None:
        if run.state != "done" and run.due_at:
            heapq.heappush(self.heap, (run.due_at, run.customer_id, run.journey_id))

    def enter(self, run: Run, *, reentry_before: str | None) -> bool:
        previous = self.items.get((run.customer_id, run.journey_id))
        ok = super().enter(run, reentry_before=reentry_before)
        if ok:
            self._index(run)
            if previous is not None:
                self.superseded.append(previous)
        return ok

    def every_run(self) -> list[Run]:
        return self.superseded + list(self.items.values())

    def advance(self, run: Run, **write: Any) -> bool:
        ok = super().advance(run, **write)
        if ok:
            self._index(run)
        return ok

    def next_due(self) -> datetime | None:
        return parse_iso(self.heap[0][0]) if self.heap else None

    def pop_due(self, now: datetime) -> list[tuple[str, str]]:
        found, cutoff = [], iso(now)
        while self.heap and self.heap[0][0] <= cutoff:
            due_at, cid, jid = heapq.heappop(self.heap)
            run = self.items.get((cid, jid))
            if run is not None and run.state != "done" and run.due_at == due_at:
                found.append((cid, jid))
        return found


class SimBase:
    """BaseReader over the in-memory customers: one page, pages run at once."""

    def __init__(self, sim: JourneySimulation) -> None:
        self.sim = sim

    def profiles(self, shard: int, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        if shard:
            return [], None
        return [c.model_dump() for c in self.sim.w.customers.items.values()], None

    def queue_pages(self, pages: list[dict[str, Any]]) -> None:
        for page in pages:
            service.age_page(self.sim.jw.ports, self, page, parse_iso(page["now"]))


class NoSegments:
    def members(self, segment_id: str, now: datetime) -> list[str]:
        return []


@dataclass
class Sent:
    at: datetime
    category: str
    content: str


class IndependentChecker:
    """Re-derives every rule from the playbook's numbers (docs/sending.md); imports nothing of
    engage.delivery. Knows each send's category and content from the jobs the simulation queued."""

    def __init__(self, sim: JourneySimulation, *, timing_only: bool = False) -> None:
        self.sim = sim
        self.timing_only = timing_only  # a replay after the run: the profile state of then is gone
        self.sends: dict[str, list[Sent]] = defaultdict(list)
        self.keys: Counter[tuple[str, str]] = Counter()
        self.violations: Counter[str] = Counter()
        self.examples: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)

    def flag(self, rule: str, customer_id: str, send_key: str, at: datetime) -> None:
        self.violations[rule] += 1
        if len(self.examples[rule]) < 5:
            self.examples[rule].append((rule, customer_id, send_key, iso(at)))

    def check(self, at: datetime, message: Outbound) -> None:
        # Times at the send ledger's resolution (whole seconds): the sender decides on stored times.
        at = at.replace(microsecond=0)
        customer_id, send_key = str(message.callback_data).split("|", 1)
        self.keys[(customer_id, send_key)] += 1
        if self.keys[(customer_id, send_key)] > 1:
            self.flag("duplicate", customer_id, send_key, at)
        category, content = self.sim.kinds[send_key]
        c = self.sim.w.customers.items[customer_id]  # as stored at send time
        local = at.astimezone(ZoneInfo(c.timezone or "UTC"))
        live = not self.timing_only
        if live and category == "marketing" and not c.consent.marketing:
            self.flag("consent", customer_id, send_key, at)
        if live and category == "marketing" and customer_id in self.sim.opted_out:
            self.flag("opt_out", customer_id, send_key, at)
        # quiet hours bind what we start (marketing, utility); a service reply answers the customer
        if category != "service" and (local.hour >= QUIET_START or local.hour < QUIET_END):
            self.flag("quiet_hours", customer_id, send_key, at)
        inbound = parse_iso(c.last_inbound_at) if c.last_inbound_at else None  # free-form: text, interactive
        if live and message.kind != "template" and (inbound is None or at - inbound >= SERVICE_WINDOW):
            self.flag("24h_rule", customer_id, send_key, at)
        history = self.sends[customer_id]
        if history and (at - history[-1].at).total_seconds() < PAIR_SECONDS:
            self.flag("pair_limit", customer_id, send_key, at)
        if category == "marketing":
            self.check_caps(c, at, content, [s for s in history if s.category == "marketing"], send_key)
        history.append(Sent(at, category, content))

    def check_caps(self, c: Customer, at: datetime, content: str, marketing: list[Sent], send_key: str) -> None:
        def within(days: float, kind: str | None = None) -> list[datetime]:
            return [s.at for s in marketing if at - s.at < timedelta(days=days) and kind in (None, s.content)]

        new = c.first_order_at and at - parse_iso(c.first_order_at) <= timedelta(days=3)
        if content == "promotional":
            if new and len(within(1, "promotional")) >= 1:
                self.flag("cap_new_daily", c.id, send_key, at)
            if not new and (within(7, "promotional") or len(within(30, "promotional")) >= 2):
                self.flag("cap_promotional", c.id, send_key, at)
        if content == "useful" and within(7, "useful"):
            self.flag("cap_useful", c.id, send_key, at)
        idle = at - parse_iso(c.last_interaction_at or iso(at))
        if idle <= timedelta(days=30) and len(within(7)) >= 3:
            self.flag("cap_active", c.id, send_key, at)
        if idle >= timedelta(days=90) and within(14):
            self.flag("cap_dormant", c.id, send_key, at)
        days = {s.at.date() for s in marketing}
        if at.date() not in days and all(at.date() - timedelta(days=k) in days for k in (1, 2, 3)):
            self.flag("consecutive_days", c.id, send_key, at)


class JourneySimulation(SendingSimulation):
    checker: IndependentChecker

    def __init__(self, people: int = 10_000, seed: int = 11, *, skip_idle: bool = True) -> None:
        first_tick = T0.replace(minute=0) + MINUTE
        super().__init__(random.Random(seed), messaging_tier=1_000_000, first_tick=first_tick, skip_idle=skip_idle)
        w = self.w
        self.runs = IndexedRuns()
        self.jw = JourneyWorld(customers=w.customers, runs=self.runs, queue=self.queue, config=w.config)  # type: ignore[arg-type]
        self.ids = [self.add_person(i) for i in range(people)]
        self.opted_out: set[str] = set()
        self.kinds: dict[str, tuple[str, str]] = {}
        for jid in DEFAULTS:
            self.kinds_of_journey(jid)
        service.install_defaults(self.jw.ports, T0)
        for jid in DEFAULTS:
            service.set_enabled(self.jw.ports, jid, True, T0)
        plan = [
            make_campaign("cmp_promo", "all", "promotional", T0 + timedelta(days=3)),
            make_campaign("cmp_tips", "half", "useful", T0 + timedelta(days=3, hours=5), rate=600),
            make_campaign("cmp_chat", "third", "useful", T0 + timedelta(days=40), text=True),
        ]
        self.kinds.update({c.id: ("marketing", c.content) for c in plan})
        self.launch(plan, FakeAudience({"all": self.ids, "half": self.ids[::2], "third": self.ids[::3]}), T0)
        # A retargeting round of the promotion, to those who did not read it, a week after their send:
        # it starts from the campaign tick once the promotion is over, under the same rules.
        template = Template(name="cmp_promo", body="Hi {{1}}, one more look at our offer?", created_at=iso(T0))
        flow = replace(self.flow, templates=FakeTemplates(template))
        follow_up = retarget.plan(flow, "cmp_promo", RetargetIn(audience="not_read", after_hours=24 * 7), "sim", T0)
        campaigns.launch(w.campaigns, self.dispatch_q, follow_up.id, T0, w.config.config)
        self.kinds[follow_up.id] = ("marketing", "promotional")
        self.follow_up = follow_up.id
        self.checker = IndependentChecker(self)
        self.base = SimBase(self)
        self.events: Counter[str] = Counter()
        self.seq = 0

    def add_person(self, i: int) -> str:
        country, prefix, zone = COUNTRIES[i % len(COUNTRIES)]
        ordered = self.rng.random() < 0.4
        last_order = T0 - timedelta(days=self.rng.randint(1, 200)) if ordered else None
        c = Customer(
            id=f"c_{i:06x}",
            wa_id=f"{prefix}{i:07d}",
            name=f"Kim{i}",
            country=country,
            timezone=zone,
            timezone_source="api",
            consent=Consent(marketing=self.rng.random() < 0.8, updated_at=iso(T0 - timedelta(days=30))),
            undeliverable=self.rng.random() < 0.005,
            last_interaction_at=iso(T0 - timedelta(days=self.rng.choice([1, 5, 20, 45, 100]))),
            last_inbound_at=iso(T0 - timedelta(hours=self.rng.choice([2, 30, 400]))),
            orders=1 if ordered else 0,
            first_order_at=iso(last_order) if last_order else None,
            last_order_at=iso(last_order) if last_order else None,
        )
        self.w.customers.add(c)
        return c.id

    def kinds_of_journey(self, jid: str) -> None:
        for sid, step in DEFAULTS[jid]["steps"].items():
            if step["type"] == "send":
                category = step.get("category", "marketing") if "template" in step else "service"
                content = "promotional" if category == "marketing" else "transactional"
                for run_no in range(1, 20):
                    self.kinds[f"journey:{jid}:{run_no}:{sid}"] = (category, content)

    # ------------------------------------------------------------ the scheduler
    def next_due(self) -> datetime | None:
        return self.runs.next_due()

    def every_minute(self, now: datetime) -> None:
        """The journey sweep: due runs move on."""
        for customer_id, journey_id in self.runs.pop_due(now):
            engine.wake(self.jw.ports, customer_id, journey_id, now)

    def every_hour(self, now: datetime) -> None:
        """The customers' doings; at 04:00 the journeys' daily time triggers."""
        self.customers_act(now)
        if now.hour == 4:
            service.daily_triggers(self.jw.ports, self.base, NoSegments(), now)

    def history(self, cid: str, kind: str, now: datetime, **data: Any) -> None:
        self.seq += 1
        self.events[kind if kind != "message" else data.get("why", "message")] += 1
        item = {"customer_id": cid, "kind": kind, "event_id": f"e{self.seq}", "occurred_at": iso(now), "data": data}
        service.on_history_item(self.jw.ports, item, now)
        if self.rng.random() < 0.02:  # the stream delivers some records twice
            service.on_history_item(self.jw.ports, item, now)

    def customers_act(self, now: datetime) -> None:
        rng, customers = self.rng, self.w.customers
        for cid in rng.sample(self.ids, 12):  # abandoned carts
            self.history(cid, "cart_abandoned", now, cart_value=50)
        for cid in rng.sample(self.ids, 6):  # orders
            c = customers.items[cid]
            customers.update(
                cid,
                orders=c.orders + 1,
                first_order_at=c.first_order_at or iso(now),
                last_order_at=iso(now),
                last_interaction_at=iso(now),
            )
            self.jw.profiles.orders[cid].append(iso(now))
            self.history(cid, "order_placed", now, total=float(rng.choice([20, 45, 90])))
        for cid in rng.sample(self.ids, 15):  # replies and first messages
            first = customers.items[cid].last_inbound_at is None or rng.random() < 0.05
            customers.update(cid, last_inbound_at=iso(now), last_interaction_at=iso(now))
            event_id = f"e{self.seq + 1}"
            if first:
                self.jw.profiles.first_messages[cid] = event_id
            self.history(cid, "message", now, type="text", text=rng.choice(["hi", "1", "2", "Price"]), why="reply")
        for cid in rng.sample(self.ids, 2):  # opt-outs (STOP) and opt-ins
            customers.update(cid, consent=Consent(marketing=False, updated_at=iso(now)).model_dump())
            self.opted_out.add(cid)
            self.history(cid, "message", now, type="text", text="STOP", consent_action="opt_out", why="opt_out")
        for cid in rng.sample(self.ids, 2):
            customers.update(
                cid, consent=Consent(marketing=True, updated_at=iso(now)).model_dump(), last_inbound_at=iso(now)
            )
            self.opted_out.discard(cid)
            self.history(cid, "message", now, type="text", text="START", consent_action="opt_in", why="opt_in")
        for cid, tag in ((rng.choice(self.ids), "intent:high"), (rng.choice(self.ids), "rfm:vip")):
            change = TagChange(
                customer_id=cid, tag=tag, action="add", source="rule:sim", event_id=f"t{now}", at=iso(now)
            )
            self.jw.profiles.tag_sets[cid].add(tag)
            self.events[f"tag {tag}"] += 1
            service.on_tag_changes(self.jw.ports, [change], now)

    # ------------------------------------------------------------ the end state
    def unknown_runs(self, now: datetime) -> list[Run]:
        """Runs in no known state: done needs an outcome (and a reason when exited); not done needs a
        due time the sweep has not passed by (it takes what is due each minute)."""
        bad, swept = [], iso(now - 2 * MINUTE)
        for run in self.runs.every_run():
            if run.state == "done":
                ok = run.outcome == "converted" or (run.outcome == "exited" and bool(run.reason))
            else:
                ok = run.due_at is not None and run.due_at >= swept
            if not ok:
                bad.append(run)
        return bad


STATE_RULES = ("consent", "opt_out", "24h_rule", "duplicate")  # on the profile as it is at the call
TIME_RULES = (  # on the send times
    "cap_new_daily",
    "cap_promotional",
    "cap_useful",
    "cap_active",
    "cap_dormant",
    "consecutive_days",
    "quiet_hours",
    "pair_limit",
)


def at_recorded_times(sim: JourneySimulation) -> Counter[str]:
    """The time rules (caps, pair limit, quiet hours) again, at the send times the ledger recorded:
    when the sender decided, which is what the rules speak of and what the sender's next decision
    reads back. Between that decision and the API call the throttle may wait for the booked slot
    (up to `throttle.max_wait_seconds`), so at WhatsApp's accept time a send can sit that much
    across a limit's boundary; the live checker counts those separately."""
    checker = IndependentChecker(sim, timing_only=True)
    for _, message in sim.whatsapp.accepted:
        customer_id, send_key = str(message.callback_data).split("|", 1)
        item = sim.w.sends.get(customer_id, send_key)
        assert item is not None and item.sent_at
        checker.check(parse_iso(item.sent_at), message)
    return checker.violations


def decision_to_call(sim: JourneySimulation) -> timedelta:
    """The longest gap between a send's recorded time (whole seconds) and WhatsApp's accept time."""
    longest = timedelta(0)
    for at, message in sim.whatsapp.accepted:
        customer_id, send_key = str(message.callback_data).split("|", 1)
        item = sim.w.sends.get(customer_id, send_key)
        if item is not None and item.sent_at:
            longest = max(longest, at - parse_iso(item.sent_at))
    return longest


def simulate(
    people: int, days: int, seed: int = 11, *, skip_idle: bool = True
) -> tuple[JourneySimulation, dict[str, Any]]:
    sim = JourneySimulation(people, seed, skip_idle=skip_idle)
    started, cpu = time.perf_counter(), time.process_time()
    end = T0 + timedelta(days=days)
    sim.run(end)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    outcomes: Counter[str] = Counter()
    for run in sim.runs.every_run():
        outcomes[f"{run.state}:{run.outcome or '-'}:{run.reason or '-'}" if run.state == "done" else run.state] += 1
    sources: Counter[str] = Counter()
    for _, message in sim.whatsapp.accepted:
        send_key = str(message.callback_data).split("|", 1)[1]
        sources[send_key.split(":")[1] if send_key.startswith("journey:") else send_key] += 1
    recorded = at_recorded_times(sim)
    live = sim.checker.violations
    return sim, {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "ticks": sim.ticks,
        "accepted": len(sim.whatsapp.accepted),
        "sent_by_source": dict(sources),
        "handled": dict(sim.handled),
        "whatsapp_errors": dict(sorted(sim.whatsapp.errors.items())),
        "violations": dict(live),
        "violations_at_recorded_times": dict(recorded),
        # the checker's verdict: state rules at the call, time rules when the sender decided
        "verdict": {rule: live[rule] for rule in STATE_RULES} | {rule: recorded[rule] for rule in TIME_RULES},
        "longest_wait": decision_to_call(sim),
        "examples": dict(sim.checker.examples),
        "unknown_runs": len(sim.unknown_runs(end)),
        "outcomes": dict(outcomes),
        "events": dict(sim.events),
        "stats": {jid: service.stats(sim.jw.ports, jid) for jid in DEFAULTS},
        "retarget": retarget_round(sim),
    }


def retarget_round(sim: JourneySimulation) -> dict[str, Any]:
    """The promotion's retargeting round: when it started, whom it chose, what became of each send."""
    follow_up = sim.w.campaigns.get(sim.follow_up)
    assert follow_up is not None
    outcomes = Counter(f"{i.state}:{i.reason or '-'}" for i in sim.w.sends.of_campaign(sim.follow_up))
    return {
        "status": follow_up.status,
        "started_at": follow_up.started_at,
        "audience": follow_up.audience_count,
        "outcomes": dict(outcomes),
    }


def run() -> None:
    # JOURNEYS_SIM_PEOPLE / JOURNEYS_SIM_DAYS make a smaller run (profiling); the figures are 10,000 x 90
    people = int(os.environ.get("JOURNEYS_SIM_PEOPLE", "10000"))
    days = int(os.environ.get("JOURNEYS_SIM_DAYS", "90"))
    logger.setLevel(logging.WARNING)  # a log line per refused send would cost more than the send
    sim, result = simulate(people, days)
    print(f"{people:,} customers, {days} days, 7 default journeys + 3 campaigns and a retargeting round")
    print(f"  time: {result['seconds']:.0f} s wall, {result['cpu_seconds']:.0f} s CPU (one core)")
    print(f"  scheduler ticks: {result['ticks']:,} (of {days * 24 * 60:,} minutes)")
    print(f"  customer events: {result['events']}")
    print(f"  sender outcomes: {result['handled']}; WhatsApp accepted {result['accepted']:,}")
    print(f"  WhatsApp errors by code: {result['whatsapp_errors']}")
    print(f"  accepted by source: {result['sent_by_source']}")
    for jid, s in result["stats"].items():
        print(
            f"  {jid}: entered {s['entered']}, sent {s['sent']}, converted {s['converted']} "
            f"({s['conversion_rate']:.1%}), revenue {s['revenue']:,.0f}, exited {s['exited']}, active {s['active']}"
        )
    print(f"  runs by end state ({sum(result['outcomes'].values()):,}): {result['outcomes']}")
    round_ = result["retarget"]
    print(
        f"  retargeting round of cmp_promo (not read, a week on): {round_['status']}, started {round_['started_at']}, "
        f"audience {round_['audience']}, sends {round_['outcomes']}"
    )
    print(f"  runs in an unknown state: {result['unknown_runs']}")
    verdict = result["verdict"]
    print(f"  independent checker, violations: {sum(verdict.values())}")
    for rule, n in verdict.items():
        print(f"    {rule}: {n}")
    skewed = {rule: n for rule, n in result["violations"].items() if rule in TIME_RULES}
    print(
        f"  time rules at WhatsApp's accept time instead: {skewed or 0} "
        f"(longest decision-to-call wait {result['longest_wait'].total_seconds():.3f} s)"
    )
    for rule in skewed:
        print(f"    e.g. {result['examples'][rule][:2]}")

"""The sending side on a virtual clock, shared by the delivery simulation (tests/unit/delivery) and
the journey simulation (bench/journeys_sim.py).

The real dispatcher, sender, release job and campaign tick run on the in-memory ports. Time moves
from event to event: the next queued message (send or dispatch) or the next scheduler tick. The
every-minute jobs tick only on minutes where something is due (a deferred send's release, or what
`next_due` names) and on every hour, so an idle stretch costs nothing; a minute on which nothing
is due would have found nothing, so the outcome is the same as ticking every minute.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from engage.campaigns import campaign as campaigns
from engage.campaigns import service as campaign_flow
from engage.campaigns.campaign import Campaign, Variant
from engage.campaigns.dispatch import DispatchPorts, dispatch_page
from engage.campaigns.service import FlowPorts
from engage.core.time import iso, parse_iso
from engage.delivery.jobs import SendJob
from engage.delivery.outbound import GraphError, Outbound, SendResult
from engage.delivery.sender import RetryLater
from tests.fakes.sending import T0, FakeAudience, FakeTier, World, world

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
COUNTRIES = [  # (country, number prefix, zone)
    ("DE", "49151", "Europe/Berlin"),
    ("US", "1212", "America/New_York"),
    ("SA", "96650", "Asia/Riyadh"),
    ("IN", "9198", "Asia/Kolkata"),
    ("BR", "5511", "America/Sao_Paulo"),
    ("JP", "8190", "Asia/Tokyo"),
]


class SimQueue:
    """A queue (send or dispatch): messages become visible at now + delay."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.heap: list[tuple[datetime, int, dict[str, Any]]] = []
        self.seq = 0

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        for body in bodies:
            self.seq += 1
            heapq.heappush(self.heap, (self.clock() + timedelta(seconds=delay_seconds), self.seq, body))


class FlakyWhatsApp:
    """Accepts most sends; some fail the way the Cloud API does. Records what it accepted, and when."""

    FAILURES = [(130429, 0.01), (131056, 0.005), (131049, 0.003), (131050, 0.002), (131026, 0.001)]

    def __init__(self, clock: Callable[[], datetime], rng: random.Random) -> None:
        self.clock, self.rng = clock, rng
        self.accepted: list[tuple[datetime, Outbound]] = []
        self.errors: Counter[int] = Counter()

    def send(self, message: Outbound) -> SendResult:
        roll = self.rng.random()
        for code, share in self.FAILURES:
            if roll < share:
                self.errors[code] += 1
                return SendResult(error=GraphError(code=code, message=str(code), http_status=400))
            roll -= share
        self.accepted.append((self.clock(), message))
        return SendResult(wamid=f"wamid.{len(self.accepted)}", wa_id=message.to)


def make_campaign(
    cid: str, tag: str, content: str, start: datetime, *, text: bool = False, rate: int = 180
) -> Campaign:
    variant = Variant(text="Hi {{name}}, {{coupon}} is yours") if text else Variant(template=cid, body=["{{name}}"])
    return Campaign(
        id=cid,
        name=cid,
        rule={"tag": tag},
        content=content,
        variants=[variant],
        rate_per_minute=rate,
        fallbacks={"name": "there"},
        coupon_code="SIM10",
        schedule={"mode": "at", "at": iso(start)},
        created_at=iso(T0),
    )


class Checker(Protocol):
    def check(self, at: datetime, message: Outbound) -> None: ...


def ceil_minute(at: datetime) -> datetime:
    whole = at.replace(second=0, microsecond=0)
    return whole if whole == at else whole + MINUTE


class SendingSimulation:
    """The event loop. Subclasses add what happens each minute and hour (`every_minute`,
    `every_hour`), name their own timers (`next_due`), and set `checker`, which sees every message
    WhatsApp accepts."""

    checker: Checker

    def __init__(
        self, rng: random.Random, *, messaging_tier: int, first_tick: datetime, skip_idle: bool = True
    ) -> None:
        self.rng = rng
        self.w: World = world()
        w = self.w
        self.queue, self.dispatch_q = SimQueue(w.clock), SimQueue(w.clock)
        self.whatsapp = FlakyWhatsApp(w.clock, rng)
        w.sender.ports.queue = self.queue
        w.sender.ports.whatsapp = self.whatsapp
        w.config.config = w.config.config.model_copy(update={"messaging_tier": messaging_tier})
        self.next_tick = first_tick  # the earliest the next tick may be (one a minute at most)
        self.skip_idle = skip_idle  # False: tick every minute (what the skipping must not change)
        self.dispatched: set[tuple[str, str]] = set()
        self.handled: Counter[str] = Counter()
        self.ticks = 0

    def launch(self, plan: list[Campaign], audience: FakeAudience, at: datetime) -> None:
        """Saves and launches the campaigns of `plan`, each sending to its tag in `audience`."""
        w = self.w
        self.plan, self.audience = plan, audience
        for c in plan:
            w.campaigns.save(c)
            campaigns.launch(w.campaigns, self.dispatch_q, c.id, at, w.config.config)
        self.dports = DispatchPorts(w.campaigns, audience, self.queue, self.dispatch_q, FakeTier(), w.config)
        self.flow = FlowPorts(w.campaigns, w.sends, self.queue, self.dispatch_q, w.config, None, audience, audience)

    # ------------------------------------------------------------ what subclasses add
    def every_minute(self, now: datetime) -> None:
        """After the release job, on each minute that ticks."""

    def every_hour(self, now: datetime) -> None:
        """After the campaign tick, on each whole hour."""

    def next_due(self) -> datetime | None:
        """The subclass's earliest timer (the every-minute jobs run on the first minute at or after it)."""
        return None

    # ------------------------------------------------------------ the clock
    def tick_at(self) -> datetime:
        """The next minute on which a tick would find something to do, and every whole hour."""
        if not self.skip_idle:
            return self.next_tick
        hour = self.next_tick if self.next_tick.minute == 0 else self.next_tick.replace(minute=0) + HOUR
        due = [hour]
        if released := self.w.sends.next_release():
            due.append(ceil_minute(parse_iso(released)))
        if timer := self.next_due():
            due.append(ceil_minute(timer))
        return max(self.next_tick, min(due))

    def run(self, end: datetime) -> None:
        while True:
            tick = self.tick_at()
            moment = min([tick] + [q.heap[0][0] for q in (self.queue, self.dispatch_q) if q.heap])
            if moment > end:
                return
            self.w.clock.now = max(self.w.clock.now, moment)
            if moment == tick:
                self.tick(tick)
            elif self.dispatch_q.heap and self.dispatch_q.heap[0][0] <= self.w.clock():
                _, _, message = heapq.heappop(self.dispatch_q.heap)
                dispatch_page(message, self.w.clock(), self.dports)
            else:
                self.send_one()

    def tick(self, at: datetime) -> None:
        """The every-minute release job; the campaign tick hourly here (every 5 minutes in AWS)."""
        now = self.w.clock()
        self.ticks += 1
        campaign_flow.release_deferred(self.flow, now)
        self.every_minute(now)
        if at.minute == 0:
            campaign_flow.campaign_tick(self.flow, now)
            self.every_hour(now)
        self.next_tick = at + MINUTE

    def send_one(self) -> None:
        _, _, body = heapq.heappop(self.queue.heap)
        job = SendJob.model_validate(body)
        self.dispatched.add((job.customer_id, job.send_key))
        before = len(self.whatsapp.accepted)
        try:
            outcome = self.w.sender.handle(job, receive_count=body.get("attempt", 0) + 1)
            self.handled[outcome.action] += 1
        except RetryLater as retry:
            self.handled["retry"] += 1
            self.queue.send([body], delay_seconds=retry.delay)
        for at, message in self.whatsapp.accepted[before:]:
            self.checker.check(at, message)
        self.w.sender.ports.throttle.release_unused()

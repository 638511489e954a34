"""Moves runs through their journey's steps, one conditional write per move.

A move is: do the step's effect, then write the run at its next step if it is still where it
was (`seq`). Every effect is idempotent by a key made of (journey, run number, step), so a crash
between the effect and the write, or two workers on the same run, repeat the effect harmlessly
and only one write wins:
- send: the sender's send key (queued twice, sent once);
- tag: the tag log's (customer, tag, action, event id);
- coupon: the issuer's (pool, customer, reason);
- history and revenue: put-if-absent on their business id.
Runs wait on the due index (`due_at`), woken by the minute sweep, or on an event (`waiting_for`),
woken by the tagger's journey processor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engage.core.observability import logger
from engage.core.time import days, iso, parse_iso
from engage.delivery.jobs import InteractiveMessage, SendJob, TemplateMessage, TextMessage
from engage.delivery.outbound import Choice
from engage.delivery.policy import SendContext, in_service_window, next_window_time
from engage.inbound.history import HistoryEvent
from engage.journeys.model import (
    Branch,
    Coupon,
    Exit,
    Goal,
    Journey,
    Send,
    Split,
    Step,
    TagStep,
    Wait,
    WaitEvent_,
)
from engage.journeys.ports import JourneyPorts
from engage.journeys.runs import Run, send_key, source_id, unit_hash
from engage.segments.evaluator import Context, expand_prefixes, matches, negated_tags, required_tags
from engage.segments.service import parse_rule

MAX_MOVES = 60  # per drive; a journey has at most 50 steps and no loops
PAUSED_RECHECK = timedelta(minutes=15)  # a paused journey's due runs are looked at again after this
AD_CLICK_WINDOW = timedelta(days=7)  # a goal is reported to Meta when the ad click is this recent
ORPHAN_AFTER = timedelta(minutes=2)  # an active run not moved for this long has lost its worker
STOP_EVENTS = {"order": "order_placed", "reply": "reply"}


@dataclass
class Move:
    """What a step decided: the run's next state and the counters that go with it."""

    run: Run
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- entering
def enter(ports: JourneyPorts, journey: Journey, customer_id: str, trigger_id: str, now: datetime) -> Run | None:
    """Starts a run unless the customer is in this journey, or left it too recently, or this
    trigger already started one. Returns the run it started (driven as far as it goes now)."""
    if not journey.enabled:
        return None
    previous = ports.runs.get(customer_id, journey.id)
    if previous is not None and (previous.state != "done" or previous.trigger_id == trigger_id):
        return None
    reentry = journey.definition.settings.reentry_days
    if previous is not None and reentry is None:
        return None
    run = Run(
        customer_id=customer_id,
        journey_id=journey.id,
        version=journey.version,
        run_no=previous.run_no + 1 if previous else 1,
        trigger_id=trigger_id,
        step=journey.definition.start,
        due_at=iso(now),
        entered_at=iso(now),
    )
    cutoff = iso(now - days(reentry)) if reentry is not None else None
    if not ports.runs.enter(run, reentry_before=cutoff):
        return None
    return drive(ports, run, now)


# ---------------------------------------------------------------- driving
def drive(ports: JourneyPorts, run: Run, now: datetime) -> Run:
    """Runs the active run's steps until it waits or ends (or someone else moves it)."""
    journey = ports.journeys.version(run.journey_id, run.version)
    if run.seq == 0 and journey is not None:  # here, not in `enter`: a crash before the first move repeats it
        ports.history.put(
            run.customer_id,
            "journey_entered",
            run.run_id,
            run.entered_at,
            {
                "journey_id": run.journey_id,
                "version": run.version,
                "run_no": run.run_no,
                "name": journey.definition.name,
            },
        )
    for _ in range(MAX_MOVES):
        if run.state != "active":
            return run
        current = ports.journeys.get(run.journey_id)
        if journey is None or current is None:
            move = end(run, "exited", "journey_deleted", now)
        elif not current.enabled:
            return hold(ports, run, now)
        else:
            move = execute(ports, journey, run, now)
        if not commit(ports, run, move):
            return ports.runs.get(run.customer_id, run.journey_id) or run
        run = move.run
    return run


def commit(ports: JourneyPorts, before: Run, move: Move) -> bool:
    after = move.run.model_copy(update={"seq": before.seq + 1})
    counts = dict(move.counts)
    if before.step != after.step or after.state == "done":
        if before.step:
            counts[f"at:{before.step}"] = counts.get(f"at:{before.step}", 0) - 1
        if after.step and after.state != "done":
            counts[f"at:{after.step}"] = counts.get(f"at:{after.step}", 0) + 1
    # The end of a run goes into the customer's history with the move itself: a crash between two
    # writes would lose it, as nothing drives a finished run again.
    ended = None
    if after.state == "done":
        data = {
            "journey_id": after.journey_id,
            "run_no": after.run_no,
            "outcome": after.outcome,
            "reason": after.reason,
        }
        at = after.ended_at or after.entered_at
        ended = HistoryEvent(
            customer_id=after.customer_id,
            kind="journey_ended",
            event_id=after.run_id,
            occurred_at=at,
            received_at=at,
            data=data,
        )
    if not ports.runs.advance(after, expected_seq=before.seq, counts=counts, history=ended):
        return False
    move.run = after
    return True


def hold(ports: JourneyPorts, run: Run, now: datetime) -> Run:
    """A paused journey: the run keeps its place and is looked at again later."""
    held = run.model_copy(update={"state": "waiting", "due_at": iso(now + PAUSED_RECHECK), "waiting_for": None})
    move = Move(held)
    return move.run if commit(ports, run, move) else run


def goto(run: Run, step_id: str | None, now: datetime, **extra: Any) -> Run:
    if step_id is None:
        return end(run, "exited", "completed", now).run
    # An active run stays on the due index (due now): if the worker driving it dies, the sweep
    # picks it up where its last write left it.
    fields = {"step": step_id, "state": "active", "due_at": iso(now), "waiting_for": None, "waiting_since": None}
    return run.model_copy(update=fields | extra)


def end(run: Run, outcome: str, reason: str, now: datetime) -> Move:
    fields = {"state": "done", "due_at": None, "waiting_for": None, "outcome": outcome, "reason": reason}
    counts = {"converted": 1} if outcome == "converted" else {f"exited:{reason}": 1}
    return Move(run.model_copy(update=fields | {"ended_at": iso(now)}), counts)


def wait(run: Run, until: datetime, now: datetime, waiting_for: str | None = None) -> Run:
    fields = {"state": "waiting", "due_at": iso(until), "waiting_for": waiting_for, "waiting_since": iso(now)}
    return run.model_copy(update=fields)


def execute(ports: JourneyPorts, journey: Journey, run: Run, now: datetime) -> Move:
    assert run.step is not None
    step = journey.step(run.step)
    if isinstance(step, Wait):
        if step.minutes is not None:
            return Move(wait(run, now + timedelta(minutes=step.minutes), now))
        return Move(wait(run, send_window(ports, run, now), now))
    if isinstance(step, WaitEvent_):
        return Move(wait(run, now + timedelta(minutes=step.timeout_minutes), now, step.event))
    if isinstance(step, Goal):
        return Move(wait(run, now + timedelta(minutes=step.within_minutes), now, step.event))
    if isinstance(step, Branch):
        return Move(goto(run, step.yes if rule_holds(ports, step, run.customer_id, now) else step.no, now))
    if isinstance(step, Split):
        return Move(split(journey, step, run, now))
    if isinstance(step, TagStep):
        ports.tags.change(
            run.customer_id,
            step.add,
            step.remove,
            source=f"journey:{journey.id}",
            event_id=f"{run.run_id}:{run.step}",
            at=iso(now),
        )
        return Move(goto(run, step.next, now))
    if isinstance(step, Coupon):
        code = ports.coupons.issue(step.pool, run.customer_id, f"journey:{run.run_id}:{run.step}", now) or step.code
        if code is None:
            return end(run, "exited", "no_coupon", now)
        return Move(goto(run, step.next, now, coupon=code))
    if isinstance(step, Send):
        return send(ports, step, run, now)
    assert isinstance(step, Exit)
    return end(run, "exited", step.reason, now)


def split(journey: Journey, step: Split, run: Run, now: datetime) -> Run:
    point = unit_hash("journey", journey.id, run.step or "", run.customer_id) * sum(a.weight for a in step.arms)
    for arm in step.arms:
        point -= arm.weight
        if point < 0:
            return goto(run, arm.next, now, arm=arm.name)
    return goto(run, step.arms[-1].next, now, arm=step.arms[-1].name)


def rule_holds(ports: JourneyPorts, step: Branch, customer_id: str, now: datetime) -> bool:
    """The segment rule applied to one customer: their own tags stand in for the membership index."""
    node = parse_rule(step.rule)
    own = ports.profiles.tags(customer_id)
    expansion = expand_prefixes(node, own)  # a prefix only matters through the tags they hold
    names = required_tags(node, expansion) | negated_tags(node, expansion)
    sets = {tag: ({customer_id} if tag in own else set()) for tag in names}
    ctx = Context(now, expansion, sets, _OneCustomer(ports))
    return matches(node, customer_id, ports.profiles.get(customer_id), ctx)


class _OneCustomer:
    """The slice of the segments' AudienceReader a single-customer rule check uses."""

    def __init__(self, ports: JourneyPorts):
        self.ports = ports

    def member_sets(self, tags: Any) -> dict[str, set[str]]:
        return {}

    def profiles(self, customer_ids: Any) -> list[Any]:
        return []

    def every_profile(self) -> list[Any]:
        return []

    def base_size(self) -> int | None:
        return None

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        return self.ports.profiles.orders_between(customer_id, since, until)


def send_window(ports: JourneyPorts, run: Run, now: datetime) -> datetime:
    """The customer's next send window (their local time, quiet hours out), as the sender sees it."""
    customer = ports.profiles.get(run.customer_id)
    if customer is None:
        return now
    probe = SendJob(customer_id=run.customer_id, send_key="probe", message=TextMessage(text="."))
    return next_window_time(probe, customer, SendContext(), ports.config.sending(), now)


def fill(text: str, run: Run) -> str:
    return text.replace("{{coupon}}", run.coupon or "")


def send(ports: JourneyPorts, step: Send, run: Run, now: datetime) -> Move:
    assert run.step is not None
    sid = run.step
    if step.text is not None:
        customer = ports.profiles.get(run.customer_id)
        if customer is None or not in_service_window(customer, ports.config.sending(), now):
            return Move(goto(run, step.next, now), {f"skipped:{sid}": 1})
        body = fill(step.text, run)
        message: TextMessage | TemplateMessage | InteractiveMessage = TextMessage(text=body)
        if step.buttons:  # a question: reply buttons (<= 3 answers) or a list (4-10), answers come back by id
            choices = [Choice(id=b.id, title=b.title) for b in step.buttons]
            message = InteractiveMessage(text=body, choices=choices)
    else:
        assert step.template is not None
        variables: dict[str, Any] = {}
        if step.variables:  # named body parameters, as the sender renders them
            variables["body"] = {k: fill(v, run) for k, v in step.variables.items()}
        if step.buttons:  # a question asked by template: its quick-reply buttons carry the answers' ids
            variables["buttons"] = [
                {"index": i, "sub_type": "quick_reply", "value": b.id} for i, b in enumerate(step.buttons)
            ]
        message = TemplateMessage(template=step.template, language=step.language, variables=variables)
    job = SendJob(
        customer_id=run.customer_id,
        send_key=send_key(run, sid),
        campaign_id=source_id(run.journey_id),
        variant=sid,
        category=step.category if step.template else "service",
        message=message,
        reason=f"journey:{run.run_id}:{sid}",
    )
    ports.queue.send([job.model_dump(mode="json")])
    extra: dict[str, Any] = {"sent": [*run.sent, sid]}
    if step.buttons:
        extra["asked"] = sid
    return Move(goto(run, step.next, now, **extra), {f"sent:{sid}": 1, "sent": 1})


# ---------------------------------------------------------------- waking up
def wake(ports: JourneyPorts, customer_id: str, journey_id: str, now: datetime) -> Run | None:
    """A due run (from the sweep): its wait is over, or its wait for an event timed out."""
    run = ports.runs.get(customer_id, journey_id)
    if run is None or run.state == "done" or run.due_at is None or parse_iso(run.due_at) > now:
        return run
    if run.state == "active":  # left mid-way (a crash, a timeout): go on, unless a worker may still be on it
        return drive(ports, run, now) if parse_iso(run.due_at) <= now - ORPHAN_AFTER else run
    journey = ports.journeys.version(run.journey_id, run.version)
    current = ports.journeys.get(run.journey_id)
    if journey is None or current is None:
        move = end(run, "exited", "journey_deleted", now)
    elif not current.enabled:
        return hold(ports, run, now)
    else:
        move = timed_out(journey, run, now)
    if not commit(ports, run, move):
        return ports.runs.get(customer_id, journey_id)
    return drive(ports, move.run, now)


def timed_out(journey: Journey, run: Run, now: datetime) -> Move:
    if run.step is None:
        return end(run, "exited", "completed", now)
    step: Step = journey.step(run.step)
    if isinstance(step, WaitEvent_):
        return Move(goto(run, step.on_timeout, now), {f"timeout:{run.step}": 1})
    if isinstance(step, Goal):
        return end(run, "exited", "goal_missed", now)
    if isinstance(step, Wait):
        return Move(goto(run, step.next, now))
    return Move(goto(run, run.step, now))  # a held run resumes at its step


# ---------------------------------------------------------------- events
def on_event(
    ports: JourneyPorts,
    customer_id: str,
    kind: str,
    event_id: str,
    at: datetime,
    now: datetime,
    *,
    data: dict[str, Any],
) -> list[Run]:
    """An event for the customer's runs: what a run waits for moves it on; a stop condition ends
    it; an order inside the goal window counts as revenue. Replays find nothing left to do."""
    moved = []
    for run in ports.runs.of_customer(customer_id):
        if kind == "order_placed":
            count_revenue(ports, run, event_id, at, data)
        if run.state == "done":
            continue
        journey = ports.journeys.version(run.journey_id, run.version)
        if journey is None:
            continue
        if kind == "reply" and run.asked:
            record_answer(ports, journey, run, event_id, at, data)
        move = react(ports, journey, run, kind, at, now, data)
        if move is not None and commit(ports, run, move):
            moved.append(drive(ports, move.run, now))
    return moved


def react(
    ports: JourneyPorts,
    journey: Journey,
    run: Run,
    kind: str,
    at: datetime,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> Move | None:
    waiting = run.state == "waiting" and run.waiting_for == kind
    if waiting and run.waiting_since and at >= parse_iso(run.waiting_since) and run.step:
        step = journey.step(run.step)
        if isinstance(step, Goal):
            move = end(run, "converted", "goal", now)
            report_conversion(ports, run, kind, at, data)
            return move
        if isinstance(step, WaitEvent_):
            return Move(goto(run, step.on_event, now), {f"event:{run.step}": 1})
    stops = {STOP_EVENTS[s] for s in journey.definition.settings.stop_on}
    if kind in stops and at >= parse_iso(run.entered_at):
        return end(run, "exited", "ordered" if kind == "order_placed" else "replied", now)
    return None


def record_answer(
    ports: JourneyPorts, journey: Journey, run: Run, event_id: str, at: datetime, data: dict[str, Any]
) -> None:
    """A survey answer (a button id, its title, or its number) becomes the button's tag."""
    step = journey.step(run.asked or "")
    if not isinstance(step, Send):
        return
    said = str(data.get("answer") or "").strip().lower()
    for number, button in enumerate(step.buttons, 1):
        if button.tag and said in {button.id.lower(), button.title.lower(), str(number)}:
            ports.tags.change(
                run.customer_id, [button.tag], [], source=f"journey:{journey.id}", event_id=event_id, at=iso(at)
            )
            return


def count_revenue(ports: JourneyPorts, run: Run, order_id: str, at: datetime, data: dict[str, Any]) -> None:
    journey = ports.journeys.version(run.journey_id, run.version)
    window = days(journey.definition.settings.goal_window_days) if journey else days(7)
    entered = parse_iso(run.entered_at)
    amount = data.get("total")
    if isinstance(amount, int | float) and amount > 0 and entered <= at <= entered + window:
        ports.runs.add_revenue(run, order_id, float(amount))


def report_conversion(
    ports: JourneyPorts, run: Run, kind: str, at: datetime, data: dict[str, Any] | None = None
) -> None:
    """A goal reached by a customer who came from a click-to-WhatsApp ad in the last 7 days: an order
    is a `Purchase` with its total and currency, any other goal a `LeadSubmitted` (the event names
    Meta takes from business messaging)."""
    click = ports.profiles.ad_click(run.customer_id, since=iso(at - AD_CLICK_WINDOW))
    if click is None:
        return
    clid, clicked_at = click
    if not (parse_iso(clicked_at) <= at <= parse_iso(clicked_at) + AD_CLICK_WINDOW):
        return
    order = data or {}
    custom: dict[str, Any] = {}
    if kind == "order_placed" and isinstance(order.get("total"), int | float) and order.get("currency"):
        custom = {"value": float(order["total"]), "currency": str(order["currency"])}
    ports.conversions.report(
        {
            "event_id": f"journey:{run.run_id}",
            "event_name": "Purchase" if kind == "order_placed" else "LeadSubmitted",
            "event_time": int(at.timestamp()),
            "action_source": "business_messaging",
            "messaging_channel": "whatsapp",
            "user_data": {"ctwa_clid": clid},
            **({"custom_data": custom} if custom else {}),
        }
    )
    logger.info("conversion reported", extra={"journey_id": run.journey_id, "customer_id": run.customer_id})

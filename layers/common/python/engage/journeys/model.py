"""A journey: a trigger and a graph of steps, stored as validated JSON with a readable summary.

The graph is a set of named steps and a `start`; each step names the step(s) it leads to. It
must be acyclic (every run ends) and every step reachable from `start`. Times are minutes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engage.core.errors import Invalid
from engage.segments.rule_tree import to_json
from engage.segments.service import parse_rule
from engage.segments.text import to_text

MAX_STEPS = 50
MAX_SURVEY_QUESTIONS = 5
INTERACTIVE_BODY = 1024  # WhatsApp's limit on an interactive message's body text
StepId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
JourneyId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
Minutes = Annotated[int, Field(ge=1, le=60 * 24 * 365)]
TagName = Annotated[str, Field(min_length=1, max_length=100)]
ParameterName = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,60}$")]

ShopEvent = Literal["order_placed", "cart_abandoned", "product_viewed", "link_clicked"]
# What a run can wait for (`wait_event`, `goal`) and what can stop it.
WaitEvent = Literal["order_placed", "cart_abandoned", "product_viewed", "link_clicked", "reply"]
StopOn = Literal["order", "reply"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ---------------------------------------------------------------- triggers
class EventTrigger(Strict):
    type: Literal["event"]
    event: ShopEvent


class OptInTrigger(Strict):
    type: Literal["opt_in"]


class FirstInboundTrigger(Strict):
    type: Literal["first_inbound"]


class TagTrigger(Strict):
    type: Literal["tag_added", "tag_removed"]
    tag: TagName


class SegmentTrigger(Strict):
    """Entry into a segment: the daily sweep enters members who were not members the day before."""

    type: Literal["segment_entry"]
    segment_id: str = Field(min_length=1, max_length=100)


class AttributeAgeTrigger(Strict):
    """`days` after a profile time (e.g. `last_order_at`): the daily sweep enters customers who just crossed it."""

    type: Literal["attribute_age"]
    attribute: Literal["last_order_at", "first_order_at", "first_seen_at", "last_inbound_at", "last_interaction_at"]
    days: int = Field(ge=1, le=3650)


Trigger = Annotated[
    EventTrigger | OptInTrigger | FirstInboundTrigger | TagTrigger | SegmentTrigger | AttributeAgeTrigger,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------- steps
class Wait(Strict):
    """A duration, or until the customer's next send window (`until: "send_window"`)."""

    type: Literal["wait"]
    minutes: Minutes | None = None
    until: Literal["send_window"] | None = None
    next: StepId

    @model_validator(mode="after")
    def _one(self) -> Wait:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("a wait has either minutes or until")
        return self


class WaitEvent_(Strict):
    """Waits for an event for at most `timeout_minutes`: `on_event` if it comes, `on_timeout` if not."""

    type: Literal["wait_event"]
    event: WaitEvent
    timeout_minutes: Minutes
    on_event: StepId
    on_timeout: StepId


class Branch(Strict):
    """The segment rule language, either form (JSON object or text), applied to this customer now."""

    type: Literal["branch"]
    rule: dict[str, Any] | str
    yes: StepId
    no: StepId

    @field_validator("rule")
    @classmethod
    def _rule(cls, value: dict[str, Any] | str) -> dict[str, Any] | str:
        try:
            parse_rule(value)
        except Invalid as error:
            raise ValueError(error.message) from None
        return value


class Button(Strict):
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)
    tag: TagName | None = None  # the tag an answer with this button becomes


class Send(Strict):
    """A template (any time, under the sending rules) or free text (only inside the 24-hour service
    window; outside it the step is skipped with reason `outside_service_window`). `{{coupon}}` in a
    variable or the text is the code the run's last coupon step issued."""

    type: Literal["send"]
    template: str | None = Field(default=None, min_length=1, max_length=512)
    language: str = Field(default="en", min_length=2, max_length=15)
    # The template's named body parameters ({{code}} in the template: "code").
    variables: dict[ParameterName, str] = {}
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    # A question: with a text, the answers (reply buttons or a list); with a template, its quick-reply
    # buttons in order (each id is sent as that button's payload). An answer becomes its button's tag.
    buttons: list[Button] = Field(default=[], max_length=10)
    category: Literal["marketing", "utility"] = "marketing"
    next: StepId | None = None

    @model_validator(mode="after")
    def _one(self) -> Send:
        if (self.template is None) == (self.text is None):
            raise ValueError("a send has either a template or a text")
        if self.buttons and self.text is not None and len(self.text) > INTERACTIVE_BODY:
            raise ValueError(
                f"a question's text is at most {INTERACTIVE_BODY} characters (WhatsApp's interactive body)"
            )
        if len({b.id for b in self.buttons}) != len(self.buttons):
            raise ValueError("button ids must differ")
        return self


class TagStep(Strict):
    type: Literal["tag"]
    add: list[TagName] = Field(default=[], max_length=10)
    remove: list[TagName] = Field(default=[], max_length=10)
    next: StepId | None = None

    @model_validator(mode="after")
    def _some(self) -> TagStep:
        if not self.add and not self.remove:
            raise ValueError("a tag step adds or removes at least one tag")
        return self


class Coupon(Strict):
    """Issues a code from `pool` (unique per customer; `code` while no such pool exists or it gives none)."""

    type: Literal["coupon"]
    pool: str = Field(min_length=1, max_length=100)
    code: str | None = Field(default=None, min_length=1, max_length=64)  # the static fallback
    next: StepId


class Arm(Strict):
    name: str = Field(min_length=1, max_length=40)
    weight: int = Field(ge=1, le=100)
    next: StepId


class Split(Strict):
    """A/B split: a stable hash of (journey, customer) picks the arm, weighted."""

    type: Literal["split"]
    arms: list[Arm] = Field(min_length=2, max_length=5)


class Goal(Strict):
    """Waits up to `within_minutes` for the goal event: the run ends `converted`, or `exited: goal_missed`."""

    type: Literal["goal"]
    event: WaitEvent = "order_placed"
    within_minutes: Minutes


class Exit(Strict):
    type: Literal["exit"]
    reason: str = Field(default="completed", pattern=r"^[a-z0-9_]{1,40}$")


Step = Annotated[
    Wait | WaitEvent_ | Branch | Send | TagStep | Coupon | Split | Goal | Exit,
    Field(discriminator="type"),
]


class Settings(Strict):
    reentry_days: int | None = Field(default=30, ge=0, le=3650)  # None: once per customer, ever
    stop_on: list[StopOn] = Field(default=[])  # an order or a reply ends the run
    goal_window_days: int = Field(default=7, ge=1, le=90)  # orders counted as revenue after entry


class JourneyIn(Strict):
    """What a marketer writes (create and update)."""

    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    trigger: Trigger
    start: StepId
    steps: dict[StepId, Step] = Field(min_length=1, max_length=MAX_STEPS)
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _graph(self) -> JourneyIn:
        problems = graph_problems(self.start, self.steps)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Journey(BaseModel):
    """The stored journey: its current version's definition and its state."""

    model_config = ConfigDict(extra="ignore")

    id: str
    version: int = 1
    enabled: bool = False
    definition: JourneyIn
    created_at: str
    updated_at: str
    builtin: bool = False

    def step(self, step_id: str) -> Step:
        return self.definition.steps[step_id]

    @property
    def summary(self) -> str:
        return summarise(self.definition)


# ---------------------------------------------------------------- the graph
def next_steps(step: Step) -> list[str]:
    if isinstance(step, WaitEvent_):
        return [step.on_event, step.on_timeout]
    if isinstance(step, Branch):
        return [step.yes, step.no]
    if isinstance(step, Split):
        return [arm.next for arm in step.arms]
    if isinstance(step, Goal | Exit):
        return []
    return [step.next] if step.next else []


def graph_problems(start: str, steps: dict[str, Step]) -> list[str]:
    problems = []
    if start not in steps:
        problems.append(f"start step '{start}' is not defined")
    for sid, step in steps.items():
        for target in next_steps(step):
            if target not in steps:
                problems.append(f"step '{sid}' leads to undefined step '{target}'")
    if problems:
        return problems
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(sid: str) -> None:
        state[sid] = 1
        for target in next_steps(steps[sid]):
            if state.get(target) == 1:
                problems.append(f"steps form a loop through '{target}' (a run must end)")
            elif target not in state:
                visit(target)
        state[sid] = 2

    visit(start)
    unreachable = sorted(set(steps) - set(state))
    if unreachable:
        problems.append(f"steps not reachable from start: {', '.join(unreachable)}")
    questions = sum(1 for s in steps.values() if isinstance(s, Send) and s.buttons)
    if questions > MAX_SURVEY_QUESTIONS:
        problems.append(f"at most {MAX_SURVEY_QUESTIONS} questions per journey")
    return problems


# ---------------------------------------------------------------- the readable summary
def _duration(minutes: int) -> str:
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes % size == 0:
            n = minutes // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def describe_trigger(trigger: Any) -> str:
    match trigger.type:
        case "event":
            return f"when a customer's {trigger.event.replace('_', ' ')} event arrives"
        case "opt_in":
            return "when a customer opts in to marketing"
        case "first_inbound":
            return "when a customer writes for the first time"
        case "tag_added" | "tag_removed":
            return f"when tag '{trigger.tag}' is {trigger.type.removeprefix('tag_')}"
        case "segment_entry":
            return f"when a customer enters segment {trigger.segment_id}"
        case _:
            return f"{trigger.days} days after {trigger.attribute.removesuffix('_at').replace('_', ' ')}"


def describe_step(step: Step) -> str:
    if isinstance(step, Wait):
        return f"wait {_duration(step.minutes)}" if step.minutes else "wait for the next send window"
    if isinstance(step, WaitEvent_):
        return (
            f"wait up to {_duration(step.timeout_minutes)} for {step.event.replace('_', ' ')}: "
            f"if it comes go to {step.on_event}, else {step.on_timeout}"
        )
    if isinstance(step, Branch):
        rule = step.rule if isinstance(step.rule, str) else to_text(parse_rule(step.rule))
        return f"if {rule} go to {step.yes}, else {step.no}"
    if isinstance(step, Send):
        if step.buttons and step.text is not None:
            form = "reply buttons" if len(step.buttons) <= 3 else "a list"
            return f"ask with {form} (inside the service window): {len(step.buttons)} choices (answers become tags)"
        what = f"template '{step.template}'" if step.template else "a text (inside the service window)"
        asks = f" asking {len(step.buttons)} choices (answers become tags)" if step.buttons else ""
        return f"send {what}{asks}"
    if isinstance(step, TagStep):
        parts = [f"add {', '.join(step.add)}"] if step.add else []
        parts += [f"remove {', '.join(step.remove)}"] if step.remove else []
        return "tag: " + "; ".join(parts)
    if isinstance(step, Coupon):
        return f"issue a code from '{step.pool}'"
    if isinstance(step, Split):
        return "split " + ", ".join(f"{a.name} {a.weight}% -> {a.next}" for a in step.arms)
    if isinstance(step, Goal):
        return f"goal: {step.event.replace('_', ' ')} within {_duration(step.within_minutes)}"
    return f"exit ({step.reason})"


def summarise(definition: JourneyIn) -> str:
    """One line per step, in walk order from the start: what a marketer reads before enabling."""
    lines = [f"{definition.name}: {describe_trigger(definition.trigger)}."]
    seen: set[str] = set()
    order: list[str] = []

    def walk(sid: str) -> None:
        if sid in seen:
            return
        seen.add(sid)
        order.append(sid)
        for target in next_steps(definition.steps[sid]):
            walk(target)

    walk(definition.start)
    for sid in order:
        step = definition.steps[sid]
        follow = f" -> {step.next}" if isinstance(step, Wait | Send | TagStep | Coupon) and step.next else ""
        lines.append(f"{sid}: {describe_step(step)}{follow}")
    settings = definition.settings
    again = "never again" if settings.reentry_days is None else f"again after {settings.reentry_days} days"
    stops = f"; an {' or a '.join(settings.stop_on)} ends the run" if settings.stop_on else ""
    lines.append(f"Once at a time per customer, {again}{stops}.")
    return "\n".join(lines)


def rule_json(rule: dict[str, Any] | str) -> dict[str, Any]:
    return to_json(parse_rule(rule))


SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")

"""EventBridge Scheduler, locally: the template's `ScheduleV2` events, `rate()` and `cron()` evaluated.

Only what the template uses is needed, but the evaluator covers the usual forms: `rate(N minute|minutes|
hour|hours|day|days)` and six-field AWS cron (`minutes hours day-of-month month day-of-week year`) with
`*`, `?`, numbers, names (JAN-DEC, SUN-SAT), lists, ranges and `/` steps. AWS day-of-week runs 1-7 =
SUN-SAT. `L`, `W` and `#` are refused with a clear error. Times are evaluated in the schedule's
`ScheduleExpressionTimezone` (default UTC).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PLACEHOLDER_TIME = "<aws.scheduler.scheduled-time>"

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}


class ScheduleError(ValueError):
    """An expression the local evaluator does not understand."""


def _expand(part: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for item in part.split(","):
        item = item.strip().upper()
        if any(ch in item for ch in "LW#"):
            raise ScheduleError(f"cron field {part!r}: L, W and # are not supported locally")
        step = 1
        if "/" in item:
            item, step_text = item.split("/", 1)
            step = int(step_text)
        if item in ("*", "?"):
            start, end = low, high
        elif "-" in item:
            a, b = item.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(item, names)
            end = high if step != 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ScheduleError(f"cron field {part!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"cron value {text!r} is not understood")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: set[int]
    hours: set[int]
    days: set[int] | None  # None: '?' (any)
    months: set[int]
    weekdays: set[int] | None  # AWS numbering 1=SUN..7=SAT; None: '?' (any)
    years: set[int]

    @classmethod
    def parse(cls, body: str) -> Cron:
        fields = body.split()
        if len(fields) != 6:
            raise ScheduleError(f"cron({body}) needs six fields")
        minute, hour, dom, month, dow, year = fields
        return cls(
            minutes=_expand(minute, 0, 59),
            hours=_expand(hour, 0, 23),
            days=None if dom in ("?", "*") else _expand(dom, 1, 31),
            months=_expand(month, 1, 12, _MONTHS),
            weekdays=None if dow in ("?", "*") else _expand(dow, 1, 7, _DAYS),
            years=_expand(year, 1970, 2199),
        )

    def _day_matches(self, day: datetime) -> bool:
        aws_weekday = (day.isoweekday() % 7) + 1  # Monday=1 -> 2, Sunday=7 -> 1
        return (
            day.year in self.years
            and day.month in self.months
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or aws_weekday in self.weekdays)
        )

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first fire time strictly after `after` (aware), or None within five years."""
        local = after.astimezone(zone).replace(second=0, microsecond=0)
        day = local.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate.astimezone(UTC) > after.astimezone(UTC):
                            return candidate.astimezone(UTC)
            day = (day + timedelta(days=1)).replace(hour=0, minute=0)
        return None


@dataclass
class Schedule:
    """One `ScheduleV2` event of a function, with its next fire time."""

    name: str  # the Input's "schedule" value (what /_local/schedules/{name} uses)
    function: str  # logical id of the target function
    expression: str
    input_text: str
    timezone: str = "UTC"
    enabled: bool = True
    resource_name: str = ""
    next_fire: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self._rate: timedelta | None = None
        self._cron: Cron | None = None
        match = _RATE.match(self.expression.strip())
        if match:
            count, unit = int(match.group(1)), match.group(2).rstrip("s")
            self._rate = timedelta(seconds=count * _UNITS[unit])
        elif self.expression.startswith("cron(") and self.expression.endswith(")"):
            self._cron = Cron.parse(self.expression[5:-1])
        else:
            raise ScheduleError(f"schedule {self.name}: expression {self.expression!r} is not supported locally")

    def following(self, after: datetime) -> datetime | None:
        """The fire time after `after`: rates count from `after` itself, crons from their calendar."""
        if self._rate is not None:
            return after + self._rate
        assert self._cron is not None
        return self._cron.next_after(after, ZoneInfo(self.timezone))

    def payload(self, fire_time: datetime) -> Any:
        """The target's Input with Scheduler's placeholders filled in (time as `2026-11-23T10:00:00Z`)."""
        text = self.input_text.replace(PLACEHOLDER_TIME, fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        text = text.replace(
            "<aws.scheduler.schedule-arn>",
            f"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/{self.resource_name}",
        )
        text = text.replace("<aws.scheduler.execution-id>", f"local-{int(fire_time.timestamp())}")
        text = text.replace("<aws.scheduler.attempt-number>", "1")
        return json.loads(text)


def schedules_from_template(functions: dict[str, dict[str, Any]], resolve: Any) -> list[Schedule]:
    """Every `ScheduleV2` event of every function. `resolve` turns intrinsics into values."""
    found = []
    for logical, spec in functions.items():
        for event_name, event in spec["events"].items():
            if event.get("Type") != "ScheduleV2":
                continue
            props = resolve(event["Properties"])
            input_text = props.get("Input") or "{}"
            try:
                name = json.loads(input_text.replace(PLACEHOLDER_TIME, "")).get("schedule") or event_name
            except (ValueError, AttributeError):
                name = event_name
            found.append(
                Schedule(
                    name=name,
                    function=logical,
                    expression=props["ScheduleExpression"],
                    input_text=input_text,
                    timezone=props.get("ScheduleExpressionTimezone", "UTC"),
                    enabled=props.get("State", "ENABLED") != "DISABLED",
                    resource_name=props.get("Name", event_name),
                )
            )
    return found

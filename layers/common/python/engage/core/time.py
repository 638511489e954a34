"""Time is a parameter: every rule takes `now`; these helpers keep the format in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_clock_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _clock_offset


def set_clock(now: datetime | None) -> None:
    """Local runtime only (`POST /_local/clock`): moves `utcnow()` to `now` and on from there, so a
    demo can live through send windows and quiet hours. Nothing sets it in AWS; None resets."""
    global _clock_offset
    _clock_offset = timedelta(0) if now is None else now - datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with a `Z`, sortable as a string (fixed width, microseconds dropped)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_epoch(seconds: int | float | str) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def days(n: float) -> timedelta:
    return timedelta(days=n)

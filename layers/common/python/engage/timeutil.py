"""Time is a parameter: every rule takes `now`; these helpers keep the format in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


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

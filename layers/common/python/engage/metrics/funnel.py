"""Rates, healthy ranges and the shapes of the metrics API, from summed counters.

Rates use the message that could act as denominator: delivery over sent, everything a reader
does (read, reply, click, opt-out) over delivered. The healthy ranges and alert thresholds are
The playbook's defaults, overridable in the `CONFIG / metrics` item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engage.core.errors import Invalid
from engage.metrics.counters import FUNNEL, add_up, breakdown

# rate name -> (numerator, denominator)
RATES: dict[str, tuple[str, str]] = {
    "delivery": ("delivered", "sent"),
    "read": ("read", "delivered"),
    "reply": ("replied", "delivered"),
    "click": ("clicked", "delivered"),
    "opt_out": ("opted_out", "delivered"),
}


class Range(BaseModel):
    """Healthy when min <= rate <= max; poor below `poor_below` or above `poor_above`."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    poor_below: float | None = None
    poor_above: float | None = None

    def status(self, rate: float | None) -> str:
        if rate is None:
            return "no_data"
        if (self.poor_below is not None and rate < self.poor_below) or (
            self.poor_above is not None and rate > self.poor_above
        ):
            return "poor"
        if self.min is not None and rate < self.min:
            return "low"
        if self.max is not None and rate > self.max:
            return "high"
        return "healthy"

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:.0%}-{self.max:.0%}"
        if self.min is not None:
            return f">= {self.min:.0%}"
        return f"<= {self.max:.0%}" if self.max is not None else "any"


def default_ranges() -> dict[str, Range]:
    return {
        "delivery": Range(min=0.98, poor_below=0.95),
        "read": Range(min=0.60, max=0.80),
        "reply": Range(min=0.15, max=0.25),
        "click": Range(min=0.10, max=0.20),
        "opt_out": Range(max=0.05, poor_above=0.07),
    }


class AlertThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opt_out_rate_max: float = 0.07  # alert above
    read_rate_min: float = 0.20  # alert below (advice: halve volume)
    delivery_rate_min: float = 0.95  # alert below (poor list)
    click_drop_min: float = 0.20  # alert when a segment's weekly click rate falls by more, twice running
    min_sample: int = Field(default=50, ge=1)  # denominators (sent, delivered) below this never alert
    # Opt-outs hurt the number's quality rating at any size: a small shop's campaign is judged from
    # fewer deliveries, and only once this many people opted out (one opt-out is never a trend).
    opt_out_min_sample: int = Field(default=20, ge=1)
    opt_out_min_count: int = Field(default=2, ge=1)
    read_min_age_hours: float = 6  # read rates of younger campaigns are not judged yet
    active_days: int = 2  # campaigns with counted activity this recently are watched


class MetricsConfig(BaseModel):
    """Stored as `pk=CONFIG, sk=metrics`; every field has the playbook's default."""

    model_config = ConfigDict(extra="ignore")

    ranges: dict[str, Range] = Field(default_factory=default_ranges)
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    link_ttl_days: int = 90
    daily_max_days: int = 92
    report_after_hours: int = 24

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> MetricsConfig:
        config = cls.model_validate(document or {})
        config.ranges = {**default_ranges(), **config.ranges}
        return config


def rate(counts: Mapping[str, int], name: str) -> float | None:
    numerator, denominator = RATES[name]
    below = counts.get(denominator, 0)
    return round(counts.get(numerator, 0) / below, 4) if below else None


def rates(counts: Mapping[str, int]) -> dict[str, float | None]:
    return {name: rate(counts, name) for name in RATES}


def health(counts: Mapping[str, int], config: MetricsConfig) -> dict[str, dict[str, Any]]:
    out = {}
    for name in RATES:
        value = rate(counts, name)
        band = config.ranges[name]
        out[name] = {
            "rate": value,
            "status": band.status(value),
            "healthy": band.describe(),
            "sample": counts.get(RATES[name][1], 0),
        }
    return out


def funnel(counts: Mapping[str, int]) -> dict[str, Any]:
    """The public counts of one scope, with rates and breakdowns."""
    out: dict[str, Any] = {name: counts.get(name, 0) for name in FUNNEL}
    out["clicks_total"] = counts.get("clicks", 0)
    out["deferred"] = counts.get("deferred", 0)
    out["refused"] = counts.get("refused", 0)
    out["failed_by_code"] = breakdown(counts, "failed")
    out["refused_by_reason"] = breakdown(counts, "refused")
    out["deferred_by_reason"] = breakdown(counts, "deferred")
    out["rates"] = rates(counts)
    return out


def group(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[str(row.get(key, "-"))].append(row)
    return groups


def campaign_metrics(
    campaign_id: str, rows: Sequence[Mapping[str, Any]], config: MetricsConfig, *, meta: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """GET /v1/campaigns/{id}/metrics from the campaign's counter items (every shard, day, variant)."""
    counts = add_up(rows)
    out: dict[str, Any] = {"campaign_id": campaign_id, **funnel(counts)}
    if meta:
        out["name"] = meta.get("name")
        out["launched_at"] = meta.get("launched_at")
        out["segment_id"] = meta.get("segment_id")
    out["health"] = health(counts, config)
    out["variants"] = {
        variant: funnel(add_up(group_rows)) for variant, group_rows in sorted(group(rows, "variant").items())
    }
    out["days"] = [{"day": day, **funnel(add_up(day_rows))} for day, day_rows in sorted(group(rows, "day").items())]
    return out


def parse_day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} must be a date like 2026-11-23, not {text!r}", code="invalid_date") from None


def day_range(raw_from: str | None, raw_to: str | None, today: date, max_days: int) -> tuple[date, date]:
    """Validates ?from=&to= (inclusive). Defaults: the last 30 days up to today."""
    to_day = parse_day(raw_to, "to") or today
    from_day = parse_day(raw_from, "from") or to_day - timedelta(days=29)
    if from_day > to_day:
        raise Invalid("from must not be after to", code="invalid_range")
    if (to_day - from_day).days + 1 > max_days:
        raise Invalid(f"at most {max_days} days per request", code="range_too_long")
    return from_day, to_day


def daily_metrics(
    rows: Sequence[Mapping[str, Any]], from_day: date, to_day: date, config: MetricsConfig
) -> dict[str, Any]:
    """GET /v1/metrics/daily: every day in the range (empty days included), each with its segments."""
    by_day = group(rows, "day")
    days = []
    current = from_day
    while current <= to_day:
        day_rows = by_day.get(current.isoformat(), [])
        segments = {seg: funnel(add_up(seg_rows)) for seg, seg_rows in sorted(group(day_rows, "segment_id").items())}
        days.append({"day": current.isoformat(), **funnel(add_up(day_rows)), "segments": segments})
        current += timedelta(days=1)
    totals = add_up(rows)
    return {
        "from": from_day.isoformat(),
        "to": to_day.isoformat(),
        "totals": funnel(totals),
        "health": health(totals, config),
        "days": days,
    }

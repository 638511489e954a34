"""Campaign reports as readable text tables (the demo, the 24-hour report, logs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# funnel row -> (label, rate name)
ROWS = (
    ("sent", "sent", None),
    ("delivered", "delivered", "delivery"),
    ("read", "read", "read"),
    ("replied", "replied", "reply"),
    ("clicked", "clicked (unique)", "click"),
    ("opted_out", "opted out", "opt_out"),
    ("failed", "failed", None),
)
VARIANT_COLUMNS = ("sent", "delivered", "read", "replied", "clicked", "opted_out")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _funnel_lines(metrics: Mapping[str, Any]) -> list[str]:
    health = metrics.get("health", {})
    lines = [f"{'metric':<18}{'count':>8}{'rate':>9}  {'healthy':<10}{'status'}"]
    for key, label, rate_name in ROWS:
        row = f"{label:<18}{metrics.get(key, 0):>8,}"
        if rate_name:
            judged = health.get(rate_name, {})
            row += f"{percent(metrics.get('rates', {}).get(rate_name)):>9}  {judged.get('healthy', ''):<10}"
            row += judged.get("status", "")
        lines.append(row.rstrip())
        if key == "failed":
            lines += [f"  code {code:<13}{n:>8,}" for code, n in metrics.get("failed_by_code", {}).items()]
    lines.append(f"{'clicks (total)':<18}{metrics.get('clicks_total', 0):>8,}")
    for key, label in (("deferred", "deferred"), ("refused", "refused")):
        if metrics.get(key):
            lines.append(f"{label:<18}{metrics[key]:>8,}")
            lines += [f"  {reason:<16}{n:>8,}" for reason, n in metrics.get(f"{key}_by_reason", {}).items()]
    return lines


def _table(title: str, first: str, rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not rows:
        return []
    header = f"{first:<12}" + "".join(f"{c.replace('_', ' '):>11}" for c in VARIANT_COLUMNS)
    header += f"{'read%':>8}{'reply%':>8}{'click%':>8}"
    lines = ["", title, header]
    for name, counts in rows.items():
        line = f"{name:<12}" + "".join(f"{counts.get(c, 0):>11,}" for c in VARIANT_COLUMNS)
        rates = counts.get("rates", {})
        line += "".join(f"{percent(rates.get(r)):>8}" for r in ("read", "reply", "click"))
        lines.append(line)
    return lines


def format_campaign_report(metrics: Mapping[str, Any]) -> str:
    """The campaign's funnel against the healthy ranges, then per variant and per day."""
    name = metrics.get("name") or metrics.get("campaign_id", "campaign")
    title = f"Campaign report: {name} ({metrics.get('campaign_id', '?')})"
    lines = [title, "=" * len(title)]
    if metrics.get("launched_at"):
        lines.append(f"launched {metrics['launched_at']}")
    lines += _funnel_lines(metrics)
    lines += _table("Per variant", "variant", metrics.get("variants", {}))
    lines += _table("Per day (cohort of the send)", "day", {d["day"]: d for d in metrics.get("days", [])})
    return "\n".join(lines)

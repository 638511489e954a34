"""A/B decisions: read and reply rates of the test sample, compared after the test window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from engage.core.time import iso
from engage.delivery.sends import SendItem


def _has(item: SendItem, attr: str) -> bool:
    return bool((item.model_extra or {}).get(attr) or getattr(item, attr, None))


def variant_numbers(items: Iterable[SendItem], names: list[str]) -> dict[str, dict[str, Any]]:
    numbers: dict[str, dict[str, Any]] = {n: {"sent": 0, "read": 0, "replied": 0} for n in names}
    for item in items:
        row = numbers.get(item.variant or "")
        if row is None or item.state != "sent":
            continue
        row["sent"] += 1
        row["read"] += int(_has(item, "read_at") or item.status == "read")
        row["replied"] += int(_has(item, "replied_at"))
    for row in numbers.values():
        sent = row["sent"] or 1
        row["read_rate"] = round(row["read"] / sent, 4)
        row["reply_rate"] = round(row["replied"] / sent, 4)
        row["score"] = round(row["read_rate"] + row["reply_rate"], 4)
    return numbers


def decide_winner(
    items: Iterable[SendItem], names: list[str], default: str, min_lead: float, now: datetime
) -> dict[str, Any]:
    """The best score wins if it leads the runner-up by `min_lead` (relative), else the default."""
    numbers = variant_numbers(items, names)
    ranked = sorted(names, key=lambda n: numbers[n]["score"], reverse=True)
    best, second = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    top, runner = numbers[best]["score"], numbers[second]["score"]
    lead = (top / runner - 1) if runner > 0 else (float("inf") if top > 0 else 0.0)
    leads = lead >= min_lead and best != second
    return {
        "variants": numbers,
        "metric": "read_rate + reply_rate",
        "leader": best,
        "lead": None if lead == float("inf") else round(lead, 4),
        "min_lead": min_lead,
        "winner": best if leads else default,
        "why": f"{best} leads by {'all' if lead == float('inf') else f'{lead:.0%}'}"
        if leads
        else f"no variant leads by {min_lead:.0%}: default {default}",
        "decided_at": iso(now),
    }

"""A/B decisions: read and reply rates of the test sample, compared after the test window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from engage.core.time import iso
from engage.delivery.sends import SendItem


def _delivered(item: SendItem) -> bool:
    """Reached the phone: a delivered or read status (a read implies delivery), whatever came after."""
    return item.seen("delivered_at") or item.status == "delivered" or item.was_read


def variant_numbers(items: Iterable[SendItem], names: list[str]) -> dict[str, dict[str, Any]]:
    numbers: dict[str, dict[str, Any]] = {n: {"sent": 0, "delivered": 0, "read": 0, "replied": 0} for n in names}
    for item in items:
        row = numbers.get(item.variant or "")
        if row is None or item.state != "sent":
            continue
        row["sent"] += 1
        row["delivered"] += int(_delivered(item))
        row["read"] += int(item.was_read)
        row["replied"] += int(item.seen("replied_at"))
    for row in numbers.values():
        sent = row["sent"] or 1
        row["read_rate"] = round(row["read"] / sent, 4)
        row["reply_rate"] = round(row["replied"] / sent, 4)
        row["score"] = round(row["read_rate"] + row["reply_rate"], 4)
    return numbers


def short_of_evidence(numbers: dict[str, dict[str, Any]], min_delivered: int) -> list[str]:
    """The variants with fewer than `min_delivered` delivered sends."""
    return [name for name, row in numbers.items() if row["delivered"] < min_delivered]


def decide_winner(
    items: Iterable[SendItem],
    names: list[str],
    default: str,
    min_lead: float,
    now: datetime,
    *,
    min_delivered: int = 1,
    out_of_time: bool = True,
) -> dict[str, Any] | None:
    """The best score wins if it leads the runner-up by `min_lead` (relative), else the default.

    No winner while a variant has fewer than `min_delivered` delivered sends: None (wait) unless
    the test is `out_of_time`, then the default variant, saying why.
    """
    numbers = variant_numbers(items, names)
    short = short_of_evidence(numbers, min_delivered)
    if short and not out_of_time:
        return None
    ranked = sorted(names, key=lambda n: numbers[n]["score"], reverse=True)
    best, second = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    top, runner = numbers[best]["score"], numbers[second]["score"]
    lead = (top / runner - 1) if runner > 0 else (float("inf") if top > 0 else 0.0)
    leads = lead >= min_lead and best != second and not short
    if short:
        counts = ", ".join(f"{n} {numbers[n]['delivered']}" for n in names)
        why = f"not enough evidence (delivered: {counts}; {min_delivered} per variant needed): default {default}"
    elif leads:
        why = f"{best} leads by {'all' if lead == float('inf') else f'{lead:.0%}'}"
    else:
        why = f"no variant leads by {min_lead:.0%}: default {default}"
    return {
        "variants": numbers,
        "metric": "read_rate + reply_rate",
        "leader": best,
        "lead": None if lead == float("inf") else round(lead, 4),
        "min_lead": min_lead,
        "min_delivered": min_delivered,
        "evidence": not short,
        "winner": best if leads else default,
        "why": why,
        "decided_at": iso(now),
    }

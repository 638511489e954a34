"""Customers and clock helpers shared by the nightly-pass tests."""

from __future__ import annotations

from datetime import timedelta

from engage.core.time import iso, parse_iso

T0 = parse_iso("2026-08-01T02:00:00Z")


def at(days: float) -> str:
    return iso(T0 + timedelta(days=days))


def customer(wiring, n: int, **fields):
    from engage.customers.profiles import Customer

    c = Customer(id=f"c_{n:032x}", wa_id=f"49151000{n:05d}", first_seen_at=at(-1), **fields)
    wiring.customers.repository().create(c)
    return c.id


def tags(wiring, cid):
    return {m["name"] for m in wiring.tagging.memberships().of_customer(cid)}


def clock(wiring, cid, dimension):
    return {t for t in tags(wiring, cid) if t.startswith(dimension + ":")}

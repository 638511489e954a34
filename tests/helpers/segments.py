"""Segment test helpers: random rules (hypothesis), customer-base builders and a naive reference evaluator.

The reference works on the rule's JSON form and one customer at a time, sharing no code with the
evaluator's planner or set algebra: it is what "walk every customer, apply the rule" means.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.keys import customer_pk, event_sk
from engage.adapters.dynamo.table import Table
from engage.adapters.dynamo.tagging_memberships import membership_item
from engage.core.phones import region_of
from engage.core.time import iso, parse_iso
from engage.customers.profiles import Consent as CustomerConsent
from engage.customers.profiles import Customer
from engage.segments.rule_tree import (
    RECENCY_FIELDS,
    Consent,
    Country,
    Group,
    Lifecycle,
    Node,
    Orders,
    Recency,
    Referrals,
    ReferredBy,
    Rfm,
    Spent,
    Tag,
    TagPrefix,
)

VOCABULARY = [
    "interest:cosmetics",
    "interest:shoes",
    "stage:purchased",
    "product:lipstick",
    "bought:2026-01:lipstick",
    "bought:2026-02:mascara",
    "lifecycle:new",
    "lifecycle:dormant",
    "rfm:vip",
    "rfm:potential",
]
PREFIXES = ["bought:2026-", "bought:2026-02", "interest:"]
COUNTRIES = ["DE", "FR", "BR", "US"]
REFERRAL_CODES = ["K7QX2M9P", "H3TW8RZ4"]
PHONES = {"DE": "4915123456789", "FR": "33612345678", "BR": "5511987654321", "US": "12025550123"}


def customer_id(n: int) -> str:
    return f"c_{n:032x}"


# ---------------------------------------------------------------- random rules

ops = st.sampled_from(["at_least", "at_most"])
leaves = st.one_of(
    st.sampled_from([t for t in VOCABULARY if not t.startswith(("lifecycle:", "rfm:"))]).map(Tag),
    st.sampled_from(PREFIXES).map(TagPrefix),
    st.builds(Recency, st.sampled_from(RECENCY_FIELDS), st.sampled_from(["within", "older"]), st.integers(1, 400)),
    st.builds(Orders, ops, st.integers(0, 5), st.none() | st.integers(1, 90)),
    st.builds(Spent, ops, st.integers(0, 400) | st.decimals(0, 400, places=2).map(float)),
    st.just(Consent()),
    st.sampled_from(COUNTRIES).map(Country),
    st.sampled_from(["new", "dormant"]).map(Lifecycle),
    st.sampled_from(["vip", "potential"]).map(Rfm),
    st.sampled_from(REFERRAL_CODES).map(ReferredBy),
    st.builds(Referrals, ops, st.integers(0, 4)),
)


def _groups(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        many.map(lambda c: Group("all", c)),
        many.map(lambda c: Group("any", c)),
        st.lists(children, min_size=1, max_size=3).map(lambda c: Group("none", tuple(c))),
    )


rules: st.SearchStrategy[Node] = st.recursive(leaves, _groups, max_leaves=7)


# ---------------------------------------------------------------- customer bases


@dataclass
class Person:
    customer: Customer
    tags: set[str] = field(default_factory=set)
    orders_at: list[str] = field(default_factory=list)


def random_base(rng: random.Random, size: int, now: datetime) -> list[Person]:
    people = []
    for n in range(size):
        country = rng.choice(COUNTRIES)
        phone_only = rng.random() < 0.3  # country known only from the phone number

        def moment(chance: float) -> str | None:
            if rng.random() >= chance:
                return None
            return iso(now - timedelta(days=rng.randint(0, 400), seconds=rng.randint(0, 86_399)))

        customer = Customer(
            id=customer_id(n),
            wa_id=PHONES[country],
            name=f"Customer {n}",
            consent=CustomerConsent(marketing=rng.random() < 0.6),
            country=None if phone_only else country,
            last_interaction_at=moment(0.8),
            last_order_at=moment(0.6),
            first_order_at=moment(0.6),
            orders=rng.randint(0, 6),
            total_spent=rng.choice([0, 19.99, 50, 120.5, 199, 400]),
            # from n, not rng, so the other fields of a seeded base stay what they were
            referred_by=[None, REFERRAL_CODES[0], None, REFERRAL_CODES[1]][n % 4],
            referrals=[0, 1, 0, 3, 5][n % 5],
        )
        tags = {t for t in VOCABULARY if rng.random() < 0.35}
        orders_at = [
            iso(now - timedelta(days=rng.randint(0, 100), hours=rng.randint(0, 23))) for _ in range(rng.randint(0, 4))
        ]
        people.append(Person(customer, tags, orders_at))
    return people


def base_items(people: Iterable[Person]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for person in people:
        cid = person.customer.id
        items.append(CustomerRepository.profile_item(person.customer))
        since = "2026-01-01T00:00:00Z"
        items.extend(membership_item(cid, t, since=since, source="import") for t in sorted(person.tags))
        for i, at in enumerate(person.orders_at):
            for kind in ("order_placed", "message"):  # a message in the window must not count
                items.append(
                    {
                        "pk": customer_pk(cid),
                        "sk": event_sk(at, kind, f"e{i}"),
                        "type": "event",
                        "kind": kind,
                        "event_id": f"e{i}",
                        "customer_id": cid,
                        "occurred_at": at,
                        "data": {},
                    }
                )
    return items


def clear(table: Table) -> None:
    table.batch_delete([(item["pk"], item["sk"]) for item in table.scan()])


# ---------------------------------------------------------------- the naive reference


def reference(rule: dict[str, Any], people: Iterable[Person], now: datetime) -> set[str]:
    """Walks every customer and applies the JSON rule to it."""
    return {p.customer.id for p in people if holds(rule, p, now)}


def holds(rule: dict[str, Any], person: Person, now: datetime) -> bool:  # noqa: C901 - one branch per leaf kind
    ((key, value),) = rule.items()
    c = person.customer
    if key == "all":
        return all(holds(r, person, now) for r in value)
    if key == "any":
        return any(holds(r, person, now) for r in value)
    if key == "none":
        return not any(holds(r, person, now) for r in value)
    if key == "tag":
        return value in person.tags
    if key == "tag_prefix":
        return any(t.startswith(value) for t in person.tags)
    if key in ("lifecycle", "rfm"):
        return f"{key}:{value}" in person.tags
    if key in RECENCY_FIELDS:
        at = getattr(c, f"{key}_at")
        if not at:
            return False
        age = now - parse_iso(at)
        if "within_days" in value:
            return age <= timedelta(days=value["within_days"])
        return age > timedelta(days=value["older_than_days"])
    if key == "referred_by":
        return c.referred_by == value
    if key in ("orders", "total_spent", "referrals"):
        if key == "total_spent":
            n: float = c.total_spent
        elif key == "referrals":
            n = c.referrals
        elif "within_days" in value:
            start = now - timedelta(days=value["within_days"])
            n = sum(1 for at in person.orders_at if start <= parse_iso(at) <= now)
        else:
            n = c.orders
        return n >= value["at_least"] if "at_least" in value else n <= value["at_most"]
    if key == "consent":
        return c.consent.marketing
    if key == "country":
        return (c.country or region_of(c.wa_id or "")) == value
    raise AssertionError(f"unknown leaf {key}")

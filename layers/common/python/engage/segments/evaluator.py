"""Evaluates a rule over the customer base: index first, profiles only where needed.

1. Every tag-like leaf (tag, tag prefix, lifecycle, rfm) is answered from the tag-membership
   index: one member set per tag (a prefix expands to the known tags that start with it).
2. The sets bound the audience: an AND is at most its smallest bounded part, an OR at most the
   union of its parts; a NOT or an attribute predicate bounds nothing on its own. When the rule
   is bounded, only those candidates are looked at.
3. Plans, chosen by size:
   - `index`: only tag leaves and a bound: pure set algebra, no profile is read;
   - `index+profiles`: attribute predicates on a bounded, small candidate set: the candidates'
     profiles are read in batches of 100 and the rule is applied to each;
   - `scan`: no bound, or a bound so large that reading it item by item costs more than reading
     the whole customers index (16 shards, in parallel): every profile is read once and the rule
     applied. A purely negative tag rule (`NOT tag:x`) also needs the base: it is the `scan` plan
     without attribute predicates.
   The cost model compares DynamoDB read units: a batched profile read costs 0.5 RCU (eventually
   consistent, one item under 4 KB); the customers index costs `profile_bytes / 8 KB` per customer.
4. Windowed order counts (`orders >= 2 in 30d`) read the customer's order events, so they are
   applied last, to customers that passed everything else.
Time is a parameter (`now`); the same rule and data give the same audience.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from engage.core import phones
from engage.core.time import days, iso, parse_iso
from engage.customers.profiles import Customer
from engage.segments.ports import AudienceReader
from engage.segments.rule_tree import (
    PROFILE_LEAVES,
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
    tag_of,
    walk,
)


class PlanCosts(BaseModel):
    """The planner's cost model (read units); tunable, defaults from DynamoDB's pricing rules."""

    profile_bytes: int = 700  # average profile item size, as read from the customers index
    batch_get_rcu: float = 0.5  # one eventually consistent item read under 4 KB

    def read_candidates(self, n: int) -> float:
        return n * self.batch_get_rcu

    def read_base(self, n: int) -> float:
        return n * self.profile_bytes / 8192


@dataclass
class Audience:
    """Who matched (sorted ids), why (the required tags each holds), and how it was found."""

    ids: list[str]
    why: dict[str, list[str]]
    plan: dict[str, Any]
    profiles: dict[str, Customer] = field(default_factory=dict)  # the first matches' profiles (sample)

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass
class Context:
    now: datetime
    expansion: dict[TagPrefix, list[str]]
    sets: dict[str, set[str]]
    reader: AudienceReader
    cutoffs: dict[int, str] = field(default_factory=dict)

    def cutoff(self, n_days: int) -> str:
        if n_days not in self.cutoffs:
            self.cutoffs[n_days] = iso(self.now - days(n_days))
        return self.cutoffs[n_days]


def evaluate(
    node: Node,
    reader: AudienceReader,
    known_tags: Iterable[str],
    *,
    now: datetime,
    costs: PlanCosts | None = None,
    keep: int = 20,
) -> Audience:
    """The audience of `node` at `now`. The rule is assumed validated.

    Profiles are applied as they stream in; only the `keep` first matches (by id) are kept, for the
    sample, so a scan of the base does not hold the base in memory.
    """
    costs = costs or PlanCosts()
    expansion = expand_prefixes(node, known_tags)
    tags = sorted(required_tags(node, expansion) | negated_tags(node, expansion))
    sets = reader.member_sets(tags) if tags else {}
    ctx = Context(now, expansion, sets, reader)
    candidates = bound(node, ctx)
    needs_profiles = any(isinstance(n, PROFILE_LEAVES) for n in walk(node))
    plan: dict[str, Any] = {
        "tags": {t: len(sets[t]) for t in tags},
        "candidates": None if candidates is None else len(candidates),
    }
    if candidates is not None and not needs_profiles:
        plan["strategy"] = "index"
        matched = [cid for cid in sorted(candidates) if matches(node, cid, None, ctx)]
        return Audience(matched, _why(node, matched, ctx), plan)
    base = reader.base_size()
    plan["base_estimate"] = base
    scan = candidates is None or (base is not None and costs.read_base(base) < costs.read_candidates(len(candidates)))
    if scan:
        plan["strategy"] = "scan"
        profiles: Iterable[Customer] = reader.every_profile()
    else:
        plan["strategy"] = "index+profiles"
        profiles = reader.profiles(sorted(candidates or ()))
    matched, kept, read = _stream(node, profiles, ctx, keep)
    plan["profiles_read"] = read
    return Audience(matched, _why(node, matched, ctx), plan, kept)


def _stream(
    node: Node, profiles: Iterable[Customer], ctx: Context, keep: int
) -> tuple[list[str], dict[str, Customer], int]:
    """Applies the rule to each profile as it arrives; keeps only the first `keep` matches (by id)."""
    matched: set[str] = set()
    kept: list[tuple[str, Customer]] = []
    read = 0
    for profile in profiles:
        read += 1
        if profile.id in matched or not matches(node, profile.id, profile, ctx):
            continue
        matched.add(profile.id)
        if len(kept) < keep or profile.id < kept[-1][0]:
            bisect.insort(kept, (profile.id, profile), key=lambda pair: pair[0])
            del kept[keep:]
    return sorted(matched), dict(kept), read


def expand_prefixes(node: Node, known_tags: Iterable[str]) -> dict[TagPrefix, list[str]]:
    prefixes = {n for n in walk(node) if isinstance(n, TagPrefix)}
    if not prefixes:
        return {}
    known = sorted(set(known_tags))
    return {p: [name for name in known if name.startswith(p.prefix)] for p in prefixes}


def _tags_of(node: Node, expansion: dict[TagPrefix, list[str]]) -> list[str]:
    if isinstance(node, TagPrefix):
        return expansion.get(node, [])
    if isinstance(node, Tag | Lifecycle | Rfm):
        return [tag_of(node)]
    return []


def required_tags(node: Node, expansion: dict[TagPrefix, list[str]], negated: bool = False) -> set[str]:
    """Tags of leaves that are not under a NOT (they explain why a customer is in)."""
    if isinstance(node, Group):
        inner = negated or node.op == "none"
        return set().union(*(required_tags(c, expansion, inner) for c in node.children))
    return set() if negated else set(_tags_of(node, expansion))


def negated_tags(node: Node, expansion: dict[TagPrefix, list[str]]) -> set[str]:
    return {t for n in walk(node) for t in _tags_of(n, expansion)} - required_tags(node, expansion)


def bound(node: Node, ctx: Context) -> set[str] | None:
    """A superset of the audience from the index alone, or None when the index cannot bound it."""
    if isinstance(node, Group):
        if node.op == "none":
            return None
        parts = [bound(child, ctx) for child in node.children]
        if node.op == "any":
            return None if any(p is None for p in parts) else set().union(*[p for p in parts if p is not None])
        bounded = sorted((p for p in parts if p is not None), key=len)
        if not bounded:
            return None
        return bounded[0].intersection(*bounded[1:])
    tags = _tags_of(node, ctx.expansion)
    if isinstance(node, Tag | TagPrefix | Lifecycle | Rfm):
        return set().union(*(ctx.sets.get(t, set()) for t in tags))
    return None


def _cost(node: Node) -> int:
    """Cheap tests first: tags, then profile fields, then windowed order counts (a read each)."""
    if isinstance(node, Tag | TagPrefix | Lifecycle | Rfm):
        return 0
    if isinstance(node, Orders) and node.within_days is not None:
        return 3
    if isinstance(node, Group):
        return 2 if any(isinstance(n, Orders) and n.within_days is not None for n in walk(node)) else 1
    return 1


def matches(node: Node, cid: str, profile: Customer | None, ctx: Context) -> bool:
    """Does customer `cid` (with `profile`, when read) satisfy `node`?"""
    if isinstance(node, Group):
        children = sorted(node.children, key=_cost)
        if node.op == "all":
            return all(matches(c, cid, profile, ctx) for c in children)
        hit = any(matches(c, cid, profile, ctx) for c in children)
        return hit if node.op == "any" else not hit
    if isinstance(node, Tag | TagPrefix | Lifecycle | Rfm):
        return any(cid in ctx.sets.get(t, ()) for t in _tags_of(node, ctx.expansion))
    if profile is None:
        raise ValueError("attribute predicates need the profile")
    return profile_matches(node, profile, ctx)


def profile_matches(node: Node, profile: Customer, ctx: Context) -> bool:
    if isinstance(node, Recency):
        value = getattr(profile, f"{node.attribute}_at")
        if not value:
            return False
        moment = iso(parse_iso(value))
        cutoff = ctx.cutoff(node.days)
        return moment >= cutoff if node.op == "within" else moment < cutoff
    if isinstance(node, Orders):
        if node.within_days is None:
            count = profile.orders
        else:
            count = ctx.reader.orders_between(profile.id, ctx.cutoff(node.within_days), iso(ctx.now))
        return count >= node.value if node.op == "at_least" else count <= node.value
    if isinstance(node, Spent):
        spent = profile.total_spent or 0
        return spent >= node.value if node.op == "at_least" else spent <= node.value
    if isinstance(node, Consent):
        return bool(profile.consent.marketing)
    if isinstance(node, Country):
        return country_of(profile) == node.code
    if isinstance(node, ReferredBy):
        return profile.referred_by == node.code  # written by the referral flow on attribution
    if isinstance(node, Referrals):
        count = profile.referrals  # the inviter's successful invites, written when one qualifies
        return count >= node.value if node.op == "at_least" else count <= node.value
    raise TypeError(f"not an attribute predicate: {node!r}")


def country_of(profile: Customer) -> str | None:
    if profile.country:
        return profile.country
    return phones.region_of(profile.wa_id) if profile.wa_id else None


def _why(node: Node, matched: list[str], ctx: Context) -> dict[str, list[str]]:
    tags = sorted(required_tags(node, ctx.expansion))
    return {cid: [t for t in tags if cid in ctx.sets.get(t, ())] for cid in matched}

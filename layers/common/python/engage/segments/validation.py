"""What a parsed rule must satisfy before it is previewed, saved or snapshotted.

Refused, each with where it is (character offset for text, JSON path for JSON):
- a tag nobody holds and the catalog does not know (with the closest known names);
- a tag prefix whose dimension no known tag has; an unknown lifecycle stage, RFM group, country
  or consent kind; a `referred_by` that cannot be a referral code (codes are upper-case letters and
  digits; the fix is suggested);
- contradictions that can be seen without data: `A AND NOT A`, `last_order < 30d AND last_order > 60d`,
  `orders >= 5 AND orders <= 2`, `total_spent >= 100 AND total_spent <= 50`, `referrals >= 5 AND
  referrals <= 2`, two different countries, two different inviters.
Empty groups and unknown attributes are refused by the parsers already.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

from phonenumbers import SUPPORTED_REGIONS

from engage.core.errors import Invalid
from engage.segments.rule_tree import (
    WORD,
    Consent,
    Country,
    Group,
    Leaf,
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
    problem,
    walk,
)
from engage.segments.text import leaf_text
from engage.tagging.catalog import is_ledger_tag

# Written by the nightly lifecycle/RFM pass; the catalog may add more.
LIFECYCLE_STAGES = frozenset({"new", "growth-high", "growth-low", "active", "dormant", "pre-churn", "churned", "lost"})
RFM_GROUPS = frozenset({"vip", "active", "potential", "dormant"})
CONSENT_KINDS = frozenset({"marketing"})


def validate(node: Node, known_tags: Iterable[str]) -> None:
    """Raises Invalid (code `invalid_rule`, details.problems[...]) when the rule has problems."""
    known = set(known_tags)
    problems = [p for leaf in _leaves(node) if (p := check_leaf(leaf, known))]
    problems.extend(contradictions(node))
    if problems:
        first = problems[0]
        where = f"character {first['offset']}" if "offset" in first else first["path"]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise Invalid(
            f"{first['message']} (at {where}){more}", code="invalid_rule", details={"problems": problems, **first}
        )


def _leaves(node: Node) -> list[Leaf]:
    return [n for n in walk(node) if not isinstance(n, Group)]


def check_leaf(leaf: Leaf, known: set[str]) -> dict[str, Any] | None:
    if isinstance(leaf, Tag):
        if leaf.name in known or is_ledger_tag(leaf.name):
            return None  # `product:lipstick` is valid before anyone bought one (nobody matches yet)
        hints = get_close_matches(leaf.name, sorted(known), n=3, cutoff=0.6)
        return problem("unknown_tag", f"unknown tag '{leaf.name}'", leaf.at, suggestions=hints)
    if isinstance(leaf, TagPrefix):
        return _check_prefix(leaf, known)
    if isinstance(leaf, Lifecycle):
        return _check_name("lifecycle stage", leaf.stage, LIFECYCLE_STAGES | _values(known, "lifecycle:"), leaf)
    if isinstance(leaf, Rfm):
        return _check_name("RFM group", leaf.group, RFM_GROUPS | _values(known, "rfm:"), leaf)
    if isinstance(leaf, Country):
        return _check_name("country", leaf.code, frozenset(SUPPORTED_REGIONS), leaf)
    if isinstance(leaf, Consent):
        return _check_name("consent kind", leaf.kind, CONSENT_KINDS, leaf)
    if isinstance(leaf, ReferredBy):
        return _check_referral_code(leaf)
    return None


def _check_referral_code(leaf: ReferredBy) -> dict[str, Any] | None:
    """Referral codes are stored upper case, letters and digits only: `k7qx-2m9p` would match nobody."""
    if leaf.code.isalnum() and leaf.code.isascii() and leaf.code == leaf.code.upper():
        return None
    fixed = "".join(ch for ch in leaf.code if ch.isascii() and ch.isalnum()).upper()
    message = f"'{leaf.code}' is not a referral code (upper-case letters and digits)"
    return problem("bad_referral_code", message, leaf.at, suggestions=[fixed] if fixed else [])


def _values(known: set[str], prefix: str) -> frozenset[str]:
    return frozenset(name.removeprefix(prefix) for name in known if name.startswith(prefix))


def _check_name(what: str, value: str, allowed: frozenset[str], leaf: Leaf) -> dict[str, Any] | None:
    if value in allowed:
        return None
    hints = get_close_matches(value, sorted(allowed), n=3, cutoff=0.5)
    if what == "country" and value.upper() in allowed:
        hints = [value.upper()]
    return problem(f"unknown_{what.split()[-1].lower()}", f"unknown {what} '{value}'", leaf.at, suggestions=hints)


def _check_prefix(leaf: TagPrefix, known: set[str]) -> dict[str, Any] | None:
    """A prefix may match nothing yet (`bought:2027-`), but its dimension must exist."""
    if not leaf.prefix or not WORD.match(leaf.prefix):
        return problem("bad_value", "a tag prefix needs at least its first letters", leaf.at)
    if any(name.startswith(leaf.prefix) for name in known):
        return None
    dimension = leaf.prefix.split(":", 1)[0]
    if ":" in leaf.prefix and any(name.split(":", 1)[0] == dimension for name in known):
        return None
    hints = get_close_matches(leaf.prefix, sorted(known), n=3, cutoff=0.5)
    return problem("unknown_tag", f"no known tag starts with '{leaf.prefix}'", leaf.at, suggestions=hints)


# ---------------------------------------------------------------- contradictions


def contradictions(node: Node) -> list[dict[str, Any]]:
    """Contradictions inside every AND (an `all` group, with its nested `all`s and `none` children)."""
    found: list[dict[str, Any]] = []
    for group in walk(node):
        if isinstance(group, Group) and group.op == "all":
            found.extend(_conjunction_problems(group))
    return found


def _conjuncts(group: Group) -> tuple[list[Node], list[Node]]:
    """(positive, negated) terms of an AND, flattening nested ANDs and `none` groups."""
    positive: list[Node] = []
    negated: list[Node] = []
    for child in group.children:
        if isinstance(child, Group) and child.op == "all":
            more_pos, more_neg = _conjuncts(child)
            positive.extend(more_pos)
            negated.extend(more_neg)
        elif isinstance(child, Group) and child.op == "none":
            negated.extend(child.children)
        else:
            positive.append(child)
    return positive, negated


def _conjunction_problems(group: Group) -> list[dict[str, Any]]:
    positive, negated = _conjuncts(group)
    found = []
    keys = {_key(term): term for term in positive}
    for term in negated:
        if _key(term) in keys:
            text = leaf_text(term) if not isinstance(term, Group) else "the same group"
            found.append(problem("contradiction", f"'{text}' is both required and excluded", term.at))
    leaves = [term for term in positive if not isinstance(term, Group)]
    for i, later in enumerate(leaves):
        for earlier in leaves[:i]:
            if _exclusive(earlier, later):
                message = f"'{leaf_text(earlier)}' and '{leaf_text(later)}' cannot both hold"
                found.append(problem("contradiction", message, later.at))
    return found


def _key(term: Node) -> Any:
    """Tag-like leaves compare by the tag they stand for (`lifecycle:new` is `tag:lifecycle:new`)."""
    if isinstance(term, Lifecycle):
        return Tag(f"lifecycle:{term.stage}")
    if isinstance(term, Rfm):
        return Tag(f"rfm:{term.group}")
    return term


def _exclusive(a: Leaf, b: Leaf) -> bool:
    if isinstance(a, Recency) and isinstance(b, Recency) and a.attribute == b.attribute and a.op != b.op:
        within, older = (a, b) if a.op == "within" else (b, a)
        return older.days >= within.days
    if isinstance(a, Orders) and isinstance(b, Orders) and a.within_days == b.within_days and a.op != b.op:
        return _bounds_clash(a, b)
    if isinstance(a, Spent) and isinstance(b, Spent) and a.op != b.op:
        return _bounds_clash(a, b)
    if isinstance(a, Referrals) and isinstance(b, Referrals) and a.op != b.op:
        return _bounds_clash(a, b)
    if isinstance(a, ReferredBy) and isinstance(b, ReferredBy):
        return a.code != b.code  # an invitee has one inviter
    return isinstance(a, Country) and isinstance(b, Country) and a.code != b.code


def _bounds_clash(a: Orders | Spent | Referrals, b: Orders | Spent | Referrals) -> bool:
    low, high = (a, b) if a.op == "at_least" else (b, a)
    return low.value > high.value

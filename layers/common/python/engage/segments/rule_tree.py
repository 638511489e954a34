"""The segment rule tree and its JSON form.

A rule is a tree of groups (`all`, `any`, `none`) over leaves. The JSON form, used by the API:

    {"all": [{"tag": "interest:cosmetics"}, {"tag": "stage:purchased"},
             {"none": [{"tag": "product:lipstick"}]}, {"last_order": {"within_days": 90}}]}

Leaves (each a one-key object):
    {"tag": "interest:cosmetics"}                 holds the tag
    {"tag_prefix": "bought:2026-"}                holds any known tag starting with the prefix
    {"last_interaction"|"last_order"|"first_order": {"within_days": N} | {"older_than_days": N}}
    {"orders": {"at_least"|"at_most": N, "within_days": D?}}   total orders, or orders in the last D days
    {"total_spent": {"at_least"|"at_most": X}}
    {"consent": "marketing"}                      recorded marketing opt-in
    {"country": "DE"}                             ISO country (the profile's, else from the phone number)
    {"lifecycle": "new"}                          holds lifecycle:<stage> (written by the nightly pass)
    {"rfm": "vip"}                                holds rfm:<group> (written by the nightly pass)
    {"referred_by": "K7QX2M9P"}                   invited with this referral code (the inviter's code)
    {"referrals": {"at_least"|"at_most": N}}      the customer's successful referral invites

`none: [a, b]` means NOT (a OR b). A group with one child is the child itself (`all: [a]` reads as
`a`): that is the only normalisation, so JSON -> text -> JSON gives back the same JSON.
Every node remembers where it came from (`at`: a character offset in the text, or a JSON path),
which validation uses to point at problems; `at` takes no part in equality.

Limits no real rule reaches, so that no rule can exhaust the parser or the evaluator (docs/segments.md):
at most MAX_DEPTH nested groups, MAX_LEAVES conditions, MAX_TEXT characters of text, names of at most
MAX_NAME characters, day counts from 1 to MAX_DAYS, order counts up to MAX_ORDERS and finite amounts
below MAX_AMOUNT. Both forms are held to them, each refusal naming where the limit was passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from engage.core.errors import Invalid

WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]*$")  # what the text form can spell without quoting
Loc = int | str | None  # character offset (text) or JSON path (JSON)
GroupOp = Literal["all", "any", "none"]
GROUP_OPS: tuple[GroupOp, ...] = ("all", "any", "none")
RECENCY_FIELDS = ("last_interaction", "last_order", "first_order")
MAX_DEPTH = 20  # nested groups (`all`/`any`/`none`, a text NOT or parenthesis pair)
MAX_TEXT_NESTING = 3 * MAX_DEPTH  # parentheses and NOTs the text parser follows (the printer writes up to 3 a group)
MAX_LEAVES = 200  # conditions in one rule
MAX_TEXT = 4000  # characters of the text form
MAX_NAME = 200  # characters of a tag, prefix or other name
MAX_DAYS = 36_500  # about a hundred years
MAX_ORDERS = 1_000_000  # an order count to compare with
MAX_AMOUNT = 1e15  # total spent compares with a finite amount below this
LEAF_KEYS = (
    "tag",
    "tag_prefix",
    *RECENCY_FIELDS,
    "orders",
    "total_spent",
    "consent",
    "country",
    "lifecycle",
    "rfm",
    "referred_by",
    "referrals",
)


@dataclass(frozen=True)
class Group:
    op: GroupOp
    children: tuple[Node, ...]
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Tag:
    name: str
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class TagPrefix:
    prefix: str
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Recency:
    """`attribute` within the last `days` days (`within`), or longer ago than that (`older`)."""

    attribute: str
    op: Literal["within", "older"]
    days: int
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Orders:
    op: Literal["at_least", "at_most"]
    value: int
    within_days: int | None = None
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Spent:
    op: Literal["at_least", "at_most"]
    value: int | float
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Consent:
    kind: str = "marketing"
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Country:
    code: str
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Lifecycle:
    stage: str
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Rfm:
    group: str
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class ReferredBy:
    """Invited with this referral code (the inviter's code, as `/v1/customers/{ref}/referral` shows it)."""

    code: str
    at: Loc = field(default=None, compare=False)


@dataclass(frozen=True)
class Referrals:
    """The customer's successful referral invites (invitees whose first order reached the threshold)."""

    op: Literal["at_least", "at_most"]
    value: int
    at: Loc = field(default=None, compare=False)


Leaf = Tag | TagPrefix | Recency | Orders | Spent | Consent | Country | Lifecycle | Rfm | ReferredBy | Referrals
Node = Group | Leaf
TAG_LIKE = (Tag, TagPrefix, Lifecycle, Rfm)  # answered from the membership index
PROFILE_LEAVES = (Recency, Orders, Spent, Consent, Country, ReferredBy, Referrals)  # need the profile


def tag_of(leaf: Tag | Lifecycle | Rfm) -> str:
    """The membership tag a tag-like leaf stands for."""
    if isinstance(leaf, Lifecycle):
        return f"lifecycle:{leaf.stage}"
    if isinstance(leaf, Rfm):
        return f"rfm:{leaf.group}"
    return leaf.name


def walk(node: Node) -> list[Node]:
    """Every node, depth first."""
    out: list[Node] = [node]
    if isinstance(node, Group):
        for child in node.children:
            out.extend(walk(child))
    return out


def leaves(node: Node) -> list[Leaf]:
    return [n for n in walk(node) if not isinstance(n, Group)]


def group(op: GroupOp, children: list[Node], at: Loc = None) -> Node:
    """A group; `all`/`any` of one child is the child (the one normalisation)."""
    if op != "none" and len(children) == 1:
        return children[0]
    return Group(op, tuple(children), at)


# ---------------------------------------------------------------- JSON -> tree


def problem(code: str, message: str, at: Loc, **extra: Any) -> dict[str, Any]:
    where = {"offset": at} if isinstance(at, int) else {"path": at}
    return {"code": code, "message": message, **where, **extra}


def refuse(code: str, message: str, at: Loc, **extra: Any) -> Invalid:
    first = problem(code, message, at, **extra)
    return Invalid(f"{message} (at {_where(at)})", code="invalid_rule", details={"problems": [first], **first})


def _where(at: Loc) -> str:
    return f"character {at}" if isinstance(at, int) else str(at)


def from_json(data: Any, path: str = "$") -> Node:
    """Parses the JSON form. Raises Invalid (code `invalid_rule`) naming the JSON path of the problem."""
    node = _from_json(data, path, 1, [0])
    check_size(node)
    return node


def _from_json(data: Any, path: str, depth: int, count: list[int]) -> Node:
    if not isinstance(data, dict) or len(data) != 1:
        raise refuse("bad_node", "a rule node is an object with exactly one key", path)
    key, value = next(iter(data.items()))
    if key in GROUP_OPS:
        if not isinstance(value, list):
            raise refuse("bad_group", f"'{key}' takes a list of rules", f"{path}.{key}")
        if not value:
            raise refuse("empty_group", f"'{key}' is empty", f"{path}.{key}")
        if depth > MAX_DEPTH:
            raise refuse("too_deep", f"a rule nests at most {MAX_DEPTH} groups", path, limit=MAX_DEPTH)
        if count[0] + len(value) > MAX_LEAVES:
            raise refuse("too_long", f"a rule has at most {MAX_LEAVES} conditions", f"{path}.{key}", limit=MAX_LEAVES)
        count[0] += len(value)
        children = [_from_json(child, f"{path}.{key}[{i}]", depth + 1, count) for i, child in enumerate(value)]
        return group(key, children, path)
    if key not in LEAF_KEYS:
        from difflib import get_close_matches

        hints = get_close_matches(key, [*LEAF_KEYS, *GROUP_OPS], n=3, cutoff=0.5)
        raise refuse("unknown_attribute", f"unknown attribute '{key}'", path, suggestions=hints)
    return _leaf(key, value, f"{path}.{key}", path)


def _leaf(key: str, value: Any, vpath: str, at: str) -> Leaf:
    if key in ("tag", "tag_prefix", "consent", "country", "lifecycle", "rfm", "referred_by"):
        if not isinstance(value, str) or not WORD.match(value):
            raise refuse("bad_value", f"'{key}' takes a name of letters, digits and : . _ -", vpath)
        if len(value) > MAX_NAME:
            raise refuse("bad_value", f"a name has at most {MAX_NAME} characters", vpath, limit=MAX_NAME)
        return _string_leaf(key, value, at)
    if not isinstance(value, dict):
        raise refuse("bad_value", f"'{key}' takes an object", vpath)
    if key in RECENCY_FIELDS:
        op_key, days = _one_of(value, ("within_days", "older_than_days"), vpath)
        return Recency(key, "within" if op_key == "within_days" else "older", _days(days, f"{vpath}.{op_key}"), at)
    extra = ("within_days",) if key == "orders" else ()
    op_key, amount = _one_of(value, ("at_least", "at_most"), vpath, extra)
    op: Literal["at_least", "at_most"] = "at_least" if op_key == "at_least" else "at_most"
    if key == "orders":
        window = value.get("within_days")
        within = None if window is None else _days(window, f"{vpath}.within_days")
        return Orders(op, _count(amount, f"{vpath}.{op_key}"), within, at)
    if key == "referrals":
        return Referrals(op, _count(amount, f"{vpath}.{op_key}", REFERRALS_MESSAGE), at)
    return Spent(op, _amount(amount, f"{vpath}.{op_key}"), at)


def _string_leaf(key: str, value: str, at: str) -> Leaf:
    if key == "tag":
        return Tag(value, at)
    if key == "tag_prefix":
        return TagPrefix(value, at)
    if key == "consent":
        return Consent(value, at)
    if key == "country":
        return Country(value, at)
    if key == "lifecycle":
        return Lifecycle(value, at)
    if key == "referred_by":
        return ReferredBy(value, at)
    return Rfm(value, at)


def _one_of(value: dict, keys: tuple[str, ...], path: str, extra: tuple[str, ...] = ()) -> tuple[str, Any]:
    unknown = sorted(set(value) - set(keys) - set(extra))
    if unknown:
        raise refuse("unknown_attribute", f"unknown key '{unknown[0]}' (expected one of {', '.join(keys)})", path)
    present = [k for k in keys if k in value]
    if len(present) != 1:
        raise refuse("bad_value", f"give exactly one of {', '.join(keys)}", path)
    return present[0], value[present[0]]


DAYS_MESSAGE = f"days must be a whole number from 1 to {MAX_DAYS}"
COUNT_MESSAGE = f"an order count is a whole number from 0 to {MAX_ORDERS}"
REFERRALS_MESSAGE = f"a referral count is a whole number from 0 to {MAX_ORDERS}"
AMOUNT_MESSAGE = f"an amount is a finite number from 0 to below {MAX_AMOUNT:.0e}"


def days_ok(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 1 <= value <= MAX_DAYS


def count_ok(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= MAX_ORDERS


def amount_ok(value: Any) -> bool:
    """Finite, at least 0 and below MAX_AMOUNT (NaN fails every comparison, so it is refused too)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 <= value < MAX_AMOUNT


def _days(value: Any, path: str) -> int:
    if not days_ok(value):
        raise refuse("bad_value", DAYS_MESSAGE, path, limit=MAX_DAYS)
    return int(value)


def _count(value: Any, path: str, message: str = COUNT_MESSAGE) -> int:
    if not count_ok(value):
        raise refuse("bad_value", message, path, limit=MAX_ORDERS)
    return int(value)


def _amount(value: Any, path: str) -> int | float:
    if not amount_ok(value):
        raise refuse("bad_value", AMOUNT_MESSAGE, path)
    return value


def depth_of(node: Node) -> tuple[int, Node]:
    """(nesting depth in groups, the first group at that depth), without recursion."""
    deepest, where = 0, node
    stack: list[tuple[Node, int]] = [(node, 1 if isinstance(node, Group) else 0)]
    while stack:
        current, depth = stack.pop()
        if depth > deepest:
            deepest, where = depth, current
        if isinstance(current, Group):
            stack.extend((child, depth + (1 if isinstance(child, Group) else 0)) for child in current.children)
    return deepest, where


def check_size(node: Node) -> None:
    """Refuses a tree deeper than MAX_DEPTH groups or with more than MAX_LEAVES conditions."""
    depth, where = depth_of(node)
    if depth > MAX_DEPTH:
        raise refuse("too_deep", f"a rule nests at most {MAX_DEPTH} groups", where.at, limit=MAX_DEPTH)
    found = leaves(node)
    if len(found) > MAX_LEAVES:
        raise refuse("too_long", f"a rule has at most {MAX_LEAVES} conditions", found[MAX_LEAVES].at, limit=MAX_LEAVES)


# ---------------------------------------------------------------- tree -> JSON


def to_json(node: Node) -> dict[str, Any]:
    if isinstance(node, Group):
        return {node.op: [to_json(child) for child in node.children]}
    if isinstance(node, Tag):
        return {"tag": node.name}
    if isinstance(node, TagPrefix):
        return {"tag_prefix": node.prefix}
    if isinstance(node, Recency):
        return {node.attribute: {"within_days" if node.op == "within" else "older_than_days": node.days}}
    if isinstance(node, Orders):
        body: dict[str, Any] = {node.op: node.value}
        if node.within_days is not None:
            body["within_days"] = node.within_days
        return {"orders": body}
    if isinstance(node, Spent):
        return {"total_spent": {node.op: node.value}}
    if isinstance(node, Referrals):
        return {"referrals": {node.op: node.value}}
    return _named_json(node)


def _named_json(node: Consent | Country | Lifecycle | Rfm | ReferredBy) -> dict[str, Any]:
    if isinstance(node, Consent):
        return {"consent": node.kind}
    if isinstance(node, Country):
        return {"country": node.code}
    if isinstance(node, Lifecycle):
        return {"lifecycle": node.stage}
    if isinstance(node, ReferredBy):
        return {"referred_by": node.code}
    return {"rfm": node.group}

"""Tagging rules: keyword, behaviour window, attribute threshold, order effects.

Rules are data (stored, editable, switchable off); DEFAULT_RULES are the playbook's defaults.
`evaluate(rules, context)` is pure: it looks at one history event, the customer's recent
history, their current tags and aggregates, and returns the tag changes to make. Time is the
event's own time (`context.now`), so replays and tests give the same answer; windows are
inclusive at `now - window` and exclusive before it (7 days and 1 second ago does not count).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from engage.core.errors import Invalid
from engage.core.text import fold
from engage.core.time import epoch, iso, parse_iso
from engage.tagging.catalog import TagChange, dimension_of, normalise_tag, slug

EVENT_KINDS = ("message", "order_placed", "cart_abandoned", "link_clicked", "product_viewed", "customer_upserted")
EventKind = Literal["message", "order_placed", "cart_abandoned", "link_clicked", "product_viewed", "customer_upserted"]
KeywordSource = Literal["text", "reply", "link"]
DEFAULT_SOURCES: tuple[KeywordSource, ...] = ("text", "reply")
RULE_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
MAX_WINDOW_DAYS = 365


# ---------------------------------------------------------------------------- models
class Condition(BaseModel):
    """A test on one field of the event's data (dotted path), e.g. {"field": "label", "op": "contains", ...}."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.]+$")
    op: Literal["eq", "ne", "contains", "in", "gt", "gte", "lt", "lte", "exists"] = "eq"
    value: Any = None


class RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(default="", pattern=r"^$|" + RULE_ID)
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=500)
    enabled: bool = True
    default: bool = False  # shipped with the product; may be edited or disabled, not deleted
    tag: str = Field(min_length=3, max_length=120)
    expires_after_days: float | None = Field(default=None, gt=0, le=MAX_WINDOW_DAYS * 5)


class KeywordRule(RuleBase):
    """An inbound text, button/list reply (title or payload) or clicked link label containing a keyword."""

    type: Literal["keyword"] = "keyword"
    keywords: list[str] = Field(min_length=1, max_length=200)
    on: list[KeywordSource] = Field(default_factory=lambda: list(DEFAULT_SOURCES), min_length=1)

    @field_validator("keywords")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(tokens(k)) for k in value]
        if not all(cleaned):
            raise ValueError("every keyword needs at least one letter or digit")
        return value


class BehaviourRule(RuleBase):
    """`min_count`+ events of `event` (matching `where`) within `window_days`, optionally per `group_by`
    value and optionally with no purchase following the first of them."""

    type: Literal["behaviour"] = "behaviour"
    event: EventKind
    min_count: int = Field(ge=1, le=1000)
    window_days: float = Field(gt=0, le=MAX_WINDOW_DAYS)
    where: list[Condition] = Field(default=[], max_length=10)
    group_by: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")
    without_purchase: bool = False


class AttributeRule(RuleBase):
    """A threshold on the customer's order aggregates, checked on every order. The tag leaves when the
    value falls back under the threshold (only if this rule set it)."""

    type: Literal["attribute"] = "attribute"
    metric: Literal["coupon_share", "avg_item_price_ratio"]
    above: float = Field(ge=0)
    min_orders: int = Field(default=1, ge=1)


class OrderRule(RuleBase):
    """Order effects: add `bought:<yyyy-mm>:<product>` per item (the `tag` template) and the
    `item_tags` of each item (`product:<slug>`, `category:<slug>` when the item names one), add
    `also_add`, remove `remove`."""

    type: Literal["order"] = "order"
    tag: str = "bought:{month}:{product}"
    # A stored rule without this field gets these: product tags work without re-installing the rules.
    item_tags: list[str] = Field(default_factory=lambda: ["product:{product}", "category:{category}"], max_length=5)
    also_add: list[str] = Field(default=[], max_length=20)
    remove: list[str] = Field(default=[], max_length=20)


Rule = Annotated[KeywordRule | BehaviourRule | AttributeRule | OrderRule, Field(discriminator="type")]
RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def parse_rule(data: Mapping[str, Any]) -> Rule:
    return RULE_ADAPTER.validate_python(dict(data))


# ---------------------------------------------------------------------------- validation
PLACEHOLDERS = re.compile(r"\{([a-z_]+)\}")


def allowed_placeholders(rule: Rule) -> set[str]:
    if isinstance(rule, OrderRule):
        return {"month", "product", "category"}
    if isinstance(rule, BehaviourRule) and rule.group_by:
        return {"group", rule.group_by}
    return set()


def targets(rule: Rule) -> list[str]:
    """Concrete tags the rule adds or removes (templates excluded)."""
    names = [rule.tag] if not PLACEHOLDERS.search(rule.tag) else []
    if isinstance(rule, OrderRule):
        names += rule.also_add + rule.remove
    return names


def validate_rule(rule: Rule, static_tags: Iterable[str] = ()) -> Rule:
    """Normalises the rule's tags and refuses what cannot work, with the reason (Invalid)."""
    used = set(PLACEHOLDERS.findall(rule.tag))
    unknown = used - allowed_placeholders(rule)
    if unknown:
        allowed = ", ".join(sorted(allowed_placeholders(rule))) or "none (set group_by to use one)"
        raise Invalid(f"tag template uses {{{', '.join(sorted(unknown))}}}; allowed here: {allowed}", code="bad_rule")
    probe = PLACEHOLDERS.sub("x", rule.tag)
    normalised = normalise_tag(probe)
    dimension_of(normalised)
    if not used:
        rule.tag = normalised
    if isinstance(rule, OrderRule):
        rule.also_add = [normalise_tag(t) for t in rule.also_add]
        rule.remove = [normalise_tag(t) for t in rule.remove]
        for name in rule.also_add + rule.remove:
            dimension_of(name)
        for template in rule.item_tags:
            unknown = set(PLACEHOLDERS.findall(template)) - allowed_placeholders(rule)
            if unknown:
                raise Invalid(f"item tag {template!r} uses {{{', '.join(sorted(unknown))}}}", code="bad_rule")
            dimension_of(normalise_tag(PLACEHOLDERS.sub("x", template)))
    static = set(static_tags)
    for name in targets(rule):
        if name in static:
            raise Invalid(
                f"{name} is a static tag (set by hand or import); rules own dynamic tags only", code="bad_rule"
            )
    return rule


# ---------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Event:
    """One history item of a customer as the rules see it."""

    customer_id: str
    kind: str
    event_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Event:
        return cls(
            customer_id=item["customer_id"],
            kind=item["kind"],
            event_id=str(item["event_id"]),
            occurred_at=parse_iso(item["occurred_at"]),
            data=dict(item.get("data") or {}),
        )


@dataclass
class Context:
    """What one evaluation may look at. `history` holds the customer's events up to `now`."""

    event: Event
    history: list[Event] = field(default_factory=list)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> membership item
    profile: dict[str, Any] = field(default_factory=dict)  # orders, coupon_orders, item_count, item_value
    shop: dict[str, Any] = field(default_factory=dict)  # item_count, item_value over every order

    @property
    def now(self) -> datetime:
        return self.event.occurred_at


def tokens(text: str) -> list[str]:
    """Whole words, case- and accent-folded, any script ('¡Cupón, POR FAVOR!' -> ['cupon', 'por', 'favor'])."""
    return re.findall(r"\w+", fold(text))


def contains_keyword(text: str, keywords: Iterable[str]) -> str | None:
    """The first keyword found as whole word(s) in `text`, or None."""
    haystack = " " + " ".join(tokens(text)) + " "
    for keyword in keywords:
        needle = " ".join(tokens(keyword))
        if needle and f" {needle} " in haystack:
            return keyword
    return None


def keyword_texts(event: Event, on: Iterable[str]) -> list[str]:
    sources = set(on)
    data = event.data
    if event.kind == "message":
        is_reply = data.get("type") in ("button", "interactive")
        if (is_reply and "reply" in sources) or (not is_reply and "text" in sources):
            return [str(v) for v in (data.get("text"), data.get("payload")) if v]
    if event.kind == "link_clicked" and "link" in sources:
        return [str(v) for v in (data.get("label"), data.get("text")) if v]
    return []


def field_value(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "exists":
        return actual is not None
    if actual is None:
        return op == "ne"
    if op in ("eq", "ne", "contains", "in"):
        a = fold(str(actual)) if not isinstance(actual, list) else [fold(str(x)) for x in actual]
        if op == "in":
            return a in [fold(str(x)) for x in (expected or [])]
        e = fold(str(expected))
        if op == "contains":
            return e in a
        return (a == e) == (op == "eq")
    try:
        x, y = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return {"gt": x > y, "gte": x >= y, "lt": x < y, "lte": x <= y}[op]


def matches(event: Event, where: Iterable[Condition]) -> bool:
    return all(_compare(c.op, field_value(event.data, c.field), c.value) for c in where)


def in_window(moment: datetime, now: datetime, window: timedelta) -> bool:
    return now - window <= moment <= now


def item_values(event: Event, field_name: str) -> set[str]:
    """Values of `field_name` on an order's items (or on the event itself)."""
    values = {str(i.get(field_name)) for i in event.data.get("items") or [] if i.get(field_name)}
    if event.data.get(field_name):
        values.add(str(event.data[field_name]))
    return {slug(v) for v in values}


def purchased_since(ctx: Context, since: datetime, group_field: str | None, group: str | None) -> bool:
    for e in ctx.history:
        if e.kind == "order_placed" and since <= e.occurred_at <= ctx.now:
            if group_field is None or (group or "") in item_values(e, group_field):
                return True
    return False


def _expires(rule: RuleBase, now: datetime) -> int | None:
    return epoch(now + timedelta(days=rule.expires_after_days)) if rule.expires_after_days else None


def _add(ctx: Context, rule: RuleBase, tag: str, reason: str) -> TagChange:
    return TagChange(
        customer_id=ctx.event.customer_id,
        tag=tag,
        action="add",
        source=f"rule:{rule.id}",
        reason=reason,
        event_id=ctx.event.event_id,
        at=iso(ctx.now),
        expires_at=_expires(rule, ctx.now),
    )


def _remove(ctx: Context, rule: RuleBase, tag: str, reason: str) -> TagChange:
    return TagChange(
        customer_id=ctx.event.customer_id,
        tag=tag,
        action="remove",
        source=f"rule:{rule.id}",
        reason=reason,
        event_id=ctx.event.event_id,
        at=iso(ctx.now),
    )


def eval_keyword(rule: KeywordRule, ctx: Context) -> list[TagChange]:
    for text in keyword_texts(ctx.event, rule.on):
        found = contains_keyword(text, rule.keywords)
        if found:
            where = "link label" if ctx.event.kind == "link_clicked" else "message"
            return [_add(ctx, rule, rule.tag, f'{where} contains "{found}"')]
    return []


def eval_behaviour(rule: BehaviourRule, ctx: Context) -> list[TagChange]:
    if ctx.event.kind != rule.event:
        return []
    window = timedelta(days=rule.window_days)
    counted = [
        e
        for e in ctx.history
        if e.kind == rule.event and in_window(e.occurred_at, ctx.now, window) and matches(e, rule.where)
    ]
    what = f"{rule.event.replace('_', ' ')} events"
    if rule.group_by is None:
        if len(counted) < rule.min_count:
            return []
        if rule.without_purchase and purchased_since(ctx, min(e.occurred_at for e in counted), None, None):
            return []
        return [_add(ctx, rule, rule.tag, f"{len(counted)} {what} in {rule.window_days:g} days")]
    field_name = rule.group_by
    groups: Counter[str] = Counter()
    first: dict[str, datetime] = {}
    for e in counted:
        value = field_value(e.data, field_name)
        if value:
            key = slug(str(value))  # one group per meaning: "Décor" and "decor" are the same category
            groups[key] += 1
            first[key] = min(first.get(key, e.occurred_at), e.occurred_at)
    current = field_value(ctx.event.data, field_name)  # only the group this event belongs to
    if not current or groups[slug(str(current))] < rule.min_count:
        return []
    group = slug(str(current))
    if rule.without_purchase and purchased_since(ctx, first[group], field_name, group):
        return []
    tag = rule.tag.format(**{"group": group, field_name: group})
    return [_add(ctx, rule, tag, f'{groups[group]} {what} for {field_name} "{current}" in {rule.window_days:g} days')]


def metric_value(rule: AttributeRule, ctx: Context) -> float | None:
    orders = int(ctx.profile.get("orders") or 0)
    if orders < rule.min_orders:
        return None
    if rule.metric == "coupon_share":
        return int(ctx.profile.get("coupon_orders") or 0) / orders
    items, value = float(ctx.profile.get("item_count") or 0), float(ctx.profile.get("item_value") or 0)
    shop_items, shop_value = float(ctx.shop.get("item_count") or 0), float(ctx.shop.get("item_value") or 0)
    if not items or not shop_items or not shop_value:
        return None
    return (value / items) / (shop_value / shop_items)


def eval_attribute(rule: AttributeRule, ctx: Context) -> list[TagChange]:
    if ctx.event.kind != "order_placed":
        return []
    value = metric_value(rule, ctx)
    if value is None:
        return []
    if value > rule.above:
        return [_add(ctx, rule, rule.tag, f"{rule.metric} {value:.2f} > {rule.above:g}")]
    held = ctx.tags.get(rule.tag)
    if held and held.get("source") == f"rule:{rule.id}":
        return [_remove(ctx, rule, rule.tag, f"{rule.metric} {value:.2f} <= {rule.above:g}")]
    return []


def eval_order(rule: OrderRule, ctx: Context) -> list[TagChange]:
    if ctx.event.kind != "order_placed":
        return []
    order_id = ctx.event.data.get("order_id", ctx.event.event_id)
    changes = [_remove(ctx, rule, tag, f"order {order_id}") for tag in rule.remove]
    changes += [
        _add(ctx, rule, tag, f"order {order_id}").model_copy(update={"expires_at": None}) for tag in rule.also_add
    ]
    month = ctx.now.strftime("%Y-%m")
    for item in ctx.event.data.get("items") or []:
        values = {
            "month": month,
            "product": slug(str(item.get("product", ""))),
            "category": slug(str(item.get("category", ""))),
        }
        why = f"order {order_id}: {item.get('product')}"
        for template in [rule.tag, *rule.item_tags]:
            if "{category}" in template and not str(item.get("category") or "").strip():
                continue  # an item without a category gets no made-up category tag
            tag = template.format(**values)
            if all(c.tag != tag or c.action != "add" for c in changes):  # two items of one product: one tag
                changes.append(_add(ctx, rule, tag, why))
    return changes


EVALUATORS: dict[str, Any] = {
    "keyword": eval_keyword,
    "behaviour": eval_behaviour,
    "attribute": eval_attribute,
    "order": eval_order,
}


def needs_history(rules: Iterable[Rule], kind: str) -> float:
    """Days of history the enabled rules need for an event of `kind` (0: none)."""
    days = 0.0
    for rule in rules:
        if rule.enabled and isinstance(rule, BehaviourRule) and rule.event == kind:
            days = max(days, rule.window_days)
    return days


def evaluate(rules: Iterable[Rule], ctx: Context) -> list[TagChange]:
    """The changes the enabled rules make for this event, minus no-ops (held adds, missing removes).

    A rule with an expiry re-adds a held tag so the writer can push its expiry out."""
    decided: dict[tuple[str, str], TagChange] = {}
    for rule in rules:
        if not rule.enabled:
            continue
        for change in EVALUATORS[rule.type](rule, ctx):
            held = change.tag in ctx.tags
            if change.action == "remove" and not held:
                continue
            if change.action == "add" and held and change.expires_at is None:
                continue
            decided.setdefault((change.tag, change.action), change)
    adds = {tag for tag, action in decided if action == "add"}
    return [c for (tag, action), c in decided.items() if not (action == "remove" and tag in adds)]


# ---------------------------------------------------------------------------- defaults
PRICE_WORDS = [
    "discount", "coupon", "promo code", "sale", "voucher", "rabatt", "gutschein", "angebot",
    "скидка", "скидки", "скидку", "промокод", "акция", "cupón", "cupon", "descuento", "oferta",
    "remise", "réduction", "code promo", "sconto", "codice sconto", "desconto", "indirim",
]  # fmt: skip
PRICE_ASK_WORDS = [
    "price", "how much", "cost", "preis", "wie viel", "was kostet", "цена", "сколько стоит", "стоимость",
    "precio", "cuánto cuesta", "cuanto", "prix", "combien", "prezzo", "quanto costa", "preço", "quanto custa",
]  # fmt: skip
TREND_WORDS = [
    "new arrivals", "new in", "just in", "new collection", "neuheiten", "neu eingetroffen", "новинки",
    "новая коллекция", "novedades", "nouveautés", "nuovi arrivi", "novidades",
]  # fmt: skip

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "id": "kw-price-sensitive", "type": "keyword", "name": "Asks for discounts",
        "keywords": PRICE_WORDS, "on": ["text", "reply"], "tag": "interest:price-sensitive",
    },
    {
        "id": "kw-price-asked", "type": "keyword", "name": "Asked for a price (7 days)",
        "keywords": PRICE_ASK_WORDS, "on": ["text", "reply"], "tag": "intent:price-asked", "expires_after_days": 7,
    },
    {
        "id": "kw-trend-follower", "type": "keyword", "name": "Clicks on new arrivals",
        "keywords": TREND_WORDS, "on": ["link", "reply"], "tag": "interest:trend-follower",
    },
    {
        "id": "bh-intent-high", "type": "behaviour", "name": "2+ clicks in 7 days, no purchase",
        "event": "link_clicked", "min_count": 2, "window_days": 7, "without_purchase": True,
        "tag": "intent:high", "expires_after_days": 7,
        "description": "Offer within 3 days (journey: high-intent offer).",
    },
    {
        "id": "bh-intent-hesitant", "type": "behaviour", "name": "3 clicks on one product, no purchase",
        "event": "link_clicked", "group_by": "product", "min_count": 3, "window_days": 30,
        "without_purchase": True, "tag": "intent:hesitant", "expires_after_days": 14,
    },
    {
        "id": "bh-cart-abandoned", "type": "behaviour", "name": "Abandoned a cart",
        "event": "cart_abandoned", "min_count": 1, "window_days": 1, "tag": "cart:abandoned",
        "expires_after_days": 30, "description": "The next order removes it.",
    },
    {
        "id": "bh-cart-abandoned-repeat", "type": "behaviour", "name": "2+ abandoned carts in 30 days",
        "event": "cart_abandoned", "min_count": 2, "window_days": 30, "tag": "cart:abandoned-repeat",
        "expires_after_days": 30, "description": "Send a code within 4 hours (journey: abandoned cart).",
    },
    {
        "id": "bh-value-vip", "type": "behaviour", "name": "3+ purchases in a month",
        "event": "order_placed", "min_count": 3, "window_days": 30, "tag": "value:vip",
    },
    {
        "id": "bh-interest-category", "type": "behaviour", "name": "Viewed a category 3+ times",
        "event": "product_viewed", "group_by": "category", "min_count": 3, "window_days": 30,
        "tag": "interest:{category}",
    },
    {
        "id": "at-coupon-share", "type": "attribute", "name": "More than 70% of orders with a coupon",
        "metric": "coupon_share", "above": 0.7, "min_orders": 3, "tag": "interest:price-sensitive",
    },
    {
        "id": "at-quality-seeker", "type": "attribute", "name": "Average item price above 2x the shop's",
        "metric": "avg_item_price_ratio", "above": 2.0, "min_orders": 1, "tag": "value:quality-seeker",
    },
    {
        "id": "or-order-effects", "type": "order", "name": "Order effects",
        "tag": "bought:{month}:{product}", "also_add": ["stage:purchased"], "expires_after_days": 400,
        "remove": ["cart:abandoned", "intent:high", "intent:hesitant"],
    },
]  # fmt: skip


def default_rules() -> list[Rule]:
    return [validate_rule(parse_rule({**r, "default": True})) for r in DEFAULT_RULES]

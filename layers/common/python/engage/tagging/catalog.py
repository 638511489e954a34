"""The tag catalog: names, dimensions, kinds, the change log and the catalog's health.

A tag is `dimension:value`, normalised so that one meaning has one spelling (see `normalise_tag`).
Static tags are set by hand or by imports; dynamic tags are owned by rules (the tagger and the
nightly pass) and cannot be set by hand. System dimensions hold dynamic tags only.

Pure domain: no boto3. Storage lives in `engage.adapters.dynamo.tagging_catalog`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engage.core.errors import Invalid
from engage.core.text import fold
from engage.core.time import iso, parse_iso

TagKind = Literal["static", "dynamic"]
ChangeKind = Literal["added", "removed", "expired", "created", "updated", "renamed", "deleted"]


class Dimension(BaseModel):
    name: str
    label: str
    colour: str
    system: bool = False  # system dimensions hold dynamic tags only
    # Generated per product, category or month: not catalogued one by one, outside the catalog's
    # healthy size, and any well-formed name of the dimension is valid in a rule (see docs/tags.md).
    ledger: bool = False


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension(name="power", label="Purchasing power", colour="#8E44AD"),
        Dimension(name="interest", label="Interests", colour="#2E86DE"),
        Dimension(name="stage", label="Purchase stage", colour="#16A085"),
        Dimension(name="source", label="Source channel", colour="#F39C12"),
        # What a customer bought (the order rule), segmentable as `product:<slug>` / `category:<slug>`.
        Dimension(name="product", label="Products bought", colour="#D35400", system=True, ledger=True),
        Dimension(name="category", label="Categories bought", colour="#A04000", system=True, ledger=True),
        Dimension(name="activity", label="Activity", colour="#27AE60", system=True),
        Dimension(name="lifecycle", label="Lifecycle", colour="#C0392B", system=True),
        Dimension(name="frequency", label="Purchase frequency", colour="#7F8C8D", system=True),
        Dimension(name="rfm", label="RFM strategy group", colour="#2C3E50", system=True),
        Dimension(name="value", label="Customer value", colour="#B7950B", system=True),
        Dimension(name="intent", label="Purchase intent", colour="#E74C3C", system=True),
        Dimension(name="cart", label="Cart", colour="#E67E22", system=True),
        Dimension(name="bought", label="Bought (month and product)", colour="#1ABC9C", system=True, ledger=True),
        Dimension(name="historical-stock", label="Historical stock", colour="#95A5A6", system=True),
        Dimension(name="referral", label="Referrals", colour="#9B59B6", system=True),
        Dimension(name="group", label="WhatsApp group circle", colour="#25D366", system=True),
    )
}

# Other spellings of a dimension and of whole tags. One meaning, one spelling.
DIMENSION_ALIASES = {
    "interests": "interest",
    "purchasing-power": "power",
    "budget": "power",
    "channel": "source",
    "source-channel": "source",
    "purchase-stage": "stage",
    "products": "product",
    "life-cycle": "lifecycle",
}
SYNONYMS = {
    "interest:discount": "interest:price-sensitive",
    "interest:discounts": "interest:price-sensitive",
    "interest:deals": "interest:price-sensitive",
    "interest:bargain-hunter": "interest:price-sensitive",
    "interest:new-arrivals": "interest:trend-follower",
    "source:ig": "source:instagram",
    "source:fb": "source:facebook",
    "stage:customer": "stage:purchased",
    "stage:buyer": "stage:purchased",
}

_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*(:[a-z0-9][a-z0-9._-]*)+$")


def slug(text: str) -> str:
    """A tag value from free text ('Red Lipstick Nº5' -> 'red-lipstick-no5'); never empty."""
    value = re.sub(r"[^a-z0-9.]+", "-", fold(text)).strip("-.")
    if not value:  # nothing latin left (e.g. a Cyrillic product name): a stable short hash
        value = "x" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return value[:60]


def normalise_tag(raw: str, *, synonyms: Mapping[str, str] | None = None) -> str:
    """'Interests: Price Sensitive' -> 'interest:price-sensitive'. Raises Invalid with the reason."""
    text = fold(str(raw)).strip()
    if ":" not in text:
        raise Invalid(f"tag {raw!r} must be 'dimension:value' (e.g. interest:cosmetics)", code="invalid_tag")
    parts = [re.sub(r"-{2,}", "-", re.sub(r"[\s_/]+", "-", p.strip())).strip("-") for p in text.split(":")]
    parts[0] = DIMENSION_ALIASES.get(parts[0], parts[0])
    name = ":".join(parts)
    name = {**SYNONYMS, **(synonyms or {})}.get(name, name)
    if len(name) > 120 or not _TAG_RE.match(name):
        raise Invalid(
            f"tag {raw!r} normalises to {name!r}, which is not a valid name: use latin letters, digits and "
            "hyphens, as 'dimension:value'",
            code="invalid_tag",
        )
    return name


def is_ledger_tag(name: str) -> bool:
    """A well-formed tag of a ledger dimension (`product:lipstick`): valid in a rule before anyone holds it."""
    dimension = DIMENSIONS.get(name.split(":", 1)[0])
    return bool(dimension and dimension.ledger and _TAG_RE.match(name))


def dimension_of(name: str) -> Dimension:
    key = name.split(":", 1)[0]
    if key not in DIMENSIONS:
        raise Invalid(
            f"unknown dimension {key!r} in {name!r}; known: {', '.join(sorted(DIMENSIONS))}", code="unknown_dimension"
        )
    return DIMENSIONS[key]


# ---------------------------------------------------------------------------- models
class TagIn(BaseModel):
    """POST /v1/tags."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=3, max_length=120)
    kind: TagKind = "static"
    description: str = Field(default="", max_length=500)


class TagPatch(BaseModel):
    """PATCH /v1/tags/{name}: rename and/or describe."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(default=None, min_length=3, max_length=120)
    description: str | None = Field(default=None, max_length=500)
    reason: str = Field(default="", max_length=300)


class TagDefinition(BaseModel):
    """A catalog entry (stored and returned)."""

    name: str
    dimension: str
    kind: TagKind
    colour: str
    description: str = ""
    created_at: str
    created_by: str
    updated_at: str | None = None
    # Set by the sender (or anything that targets the tag) when a send uses it; tag health reads it.
    last_used_at: str | None = None
    state: Literal["active", "renaming", "deleting"] = "active"
    renamed_to: str | None = None
    renamed_from: str | None = None


def define(name: str, *, kind: TagKind, description: str, by: str, now: datetime) -> TagDefinition:
    name = normalise_tag(name)
    dimension = dimension_of(name)
    if dimension.system and kind == "static":
        raise Invalid(
            f"{dimension.name!r} is a system dimension: its tags are dynamic (owned by rules)", code="system_dimension"
        )
    return TagDefinition(
        name=name,
        dimension=dimension.name,
        kind=kind,
        colour=dimension.colour,
        description=description,
        created_at=iso(now),
        created_by=by,
    )


class TagChange(BaseModel):
    """One change of one customer's tags, as the engine decides it (applied idempotently)."""

    customer_id: str
    tag: str
    action: Literal["add", "remove"]
    source: str  # "rule:<id>" | "hand:<who>" | "import" | "system" | "webhook"
    reason: str = ""
    event_id: str  # what caused it; with (customer, tag, action) it keys the log entry
    at: str  # ISO time of the cause (the event's own time)
    expires_at: int | None = None
    change: ChangeKind | None = None  # "expired" for expiry removals; default from action

    @property
    def log_change(self) -> ChangeKind:
        return self.change or ("added" if self.action == "add" else "removed")


class TagLogEntry(BaseModel):
    """GET /v1/tags/log rows: when, what, who or which rule, why."""

    at: str
    change: ChangeKind
    tag: str
    customer_id: str | None = None
    by: str
    reason: str = ""
    event_id: str | None = None
    details: dict[str, Any] = {}


# ---------------------------------------------------------------------------- starter catalog
STARTER_CATALOG: list[tuple[str, TagKind, str]] = [
    ("interest:price-sensitive", "dynamic", "Asks for discounts or mostly buys with coupons."),
    ("interest:trend-follower", "dynamic", "Clicks on new arrivals."),
    ("interest:cosmetics", "dynamic", "Viewed cosmetics 3+ times in 30 days (rule bh-interest-category)."),
    ("power:premium", "static", "High purchasing power (set by hand or import)."),
    ("power:budget", "static", "Budget-conscious (set by hand or import)."),
    ("stage:purchased", "dynamic", "Has bought at least once (the order rule sets it)."),
    ("source:instagram", "static", "Came through Instagram."),
    ("source:ctwa-ad", "static", "Came through a click-to-WhatsApp ad."),
    ("intent:high", "dynamic", "2+ link clicks in 7 days without a purchase: make an offer within 3 days."),
    ("intent:hesitant", "dynamic", "3 clicks on one product without buying it."),
    ("intent:price-asked", "dynamic", "Asked for a price in the last 7 days."),
    ("cart:abandoned", "dynamic", "Abandoned a cart; the next order removes it."),
    ("cart:abandoned-repeat", "dynamic", "2+ abandoned carts: send a code within 4 hours."),
    ("value:vip", "dynamic", "3+ purchases within a month."),
    ("value:quality-seeker", "dynamic", "Average item price above 2x the shop average."),
    ("activity:active", "dynamic", "Interaction or purchase in the last 30 days."),
    ("activity:needs-attention", "dynamic", "Slipping: no read in 14 days, or 30-90 days quiet."),
    ("activity:dormant", "dynamic", "No interaction for 90+ days."),
    ("lifecycle:new", "dynamic", "First purchase less than 60 days ago (onboarding)."),
    ("historical-stock:awaiting-activation", "dynamic", "Quarterly audit: held tags but silent for 180 days."),
]


# ---------------------------------------------------------------------------- health
class HealthConfig(BaseModel):
    """The playbook's tag-health defaults; overridable in CONFIG/tagging under "health"."""

    silent_days: int = 30
    overloaded_share: float = 0.40
    split_into: int = 3
    healthy_min: int = 50
    healthy_max: int = 80
    warn_above: int = 100


def catalog_status(size: int, config: HealthConfig) -> tuple[str, str | None]:
    if size > config.warn_above:
        return "too-large", f"{size} tags: above {config.warn_above}, merge or delete tags nobody uses"
    if size > config.healthy_max:
        return "large", f"{size} tags: above the healthy {config.healthy_min}-{config.healthy_max}"
    if size < config.healthy_min:
        return "small", None  # a young catalog; nothing to fix
    return "healthy", None


def is_silent(definition: TagDefinition, now: datetime, config: HealthConfig) -> bool:
    """Not named by a launched campaign for `silent_days` (a tag younger than that is not silent yet)."""
    cutoff = now - timedelta(days=config.silent_days)
    last = definition.last_used_at or definition.created_at
    return parse_iso(last) < cutoff


def health_report(
    definitions: Iterable[TagDefinition],
    counts: Mapping[str, int],
    total_customers: int,
    now: datetime,
    config: HealthConfig | None = None,
) -> dict[str, Any]:
    config = config or HealthConfig()
    definitions = list(definitions)
    status, warning = catalog_status(len(definitions), config)
    rows, silent, overloaded = [], [], []
    for d in sorted(definitions, key=lambda x: x.name):
        count = counts.get(d.name, 0)
        share = count / total_customers if total_customers else 0.0
        rows.append({"name": d.name, "kind": d.kind, "count": count, "share": round(share, 4)})
        if is_silent(d, now, config):
            silent.append({"name": d.name, "last_used_at": d.last_used_at})
        if share > config.overloaded_share:
            overloaded.append(
                {
                    "name": d.name,
                    "share": round(share, 4),
                    "suggestion": f"held by {share:.0%} of customers: split it into at least {config.split_into} "
                    "narrower tags",
                }
            )
    warnings = [warning] if warning else []
    warnings += [f"{o['name']}: {o['suggestion']}" for o in overloaded]
    if silent:
        warnings.append(f"{len(silent)} tag(s) not used by any send for {config.silent_days} days")
    return {
        "computed_at": iso(now),
        "catalog_size": len(definitions),
        "status": status,
        "customers": total_customers,
        "warnings": warnings,
        "silent": silent,
        "overloaded": overloaded,
        "tags": rows,
    }

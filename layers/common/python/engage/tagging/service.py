"""Tagging use cases: install, catalog changes, hand tagging, bulk, and the tagger's event step.

Dependencies come in a `Tagging` bundle of ports (built by `engage.wiring.tagging.ports()`), so tests
and the local runtime can hand in fakes or moto-backed adapters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.observability import logger
from engage.core.ports import Queue
from engage.core.time import epoch, iso
from engage.tagging.catalog import (
    STARTER_CATALOG,
    TagChange,
    TagDefinition,
    TagIn,
    TagLogEntry,
    TagPatch,
    define,
    dimension_of,
    normalise_tag,
    slug,
)
from engage.tagging.ports import (
    EventReader,
    MembershipBatches,
    MembershipReader,
    RuleStore,
    TagCatalogStore,
    TagChangeWriter,
)
from engage.tagging.rules import (
    AttributeRule,
    Context,
    Event,
    Rule,
    default_rules,
    evaluate,
    needs_history,
    parse_rule,
    targets,
    validate_rule,
)

DEFAULTS_VERSION = 1
BATCH = 1000  # memberships moved per step of a rename or delete


@dataclass
class Tagging:
    catalog: TagCatalogStore
    rules: RuleStore
    writer: TagChangeWriter
    memberships: MembershipReader
    reads: EventReader
    batches: MembershipBatches
    queue: Queue | None = None  # continuation pages of big renames/deletes (PassQueue)
    installed: bool = False


def ready(t: Tagging, now: datetime) -> Tagging:
    """The bundle with the first-run defaults in place (checked once per process)."""
    if not t.installed:
        ensure_installed(t, now)
        t.installed = True
    return t


# ---------------------------------------------------------------------------- first run
def ensure_installed(t: Tagging, now: datetime) -> dict[str, int]:
    """Installs the starter catalog and the default rules once. Safe to call on every cold start."""
    if t.rules.installed():
        return {"tags": 0, "rules": 0}
    tags = 0
    for name, kind, description in STARTER_CATALOG:
        definition = define(name, kind=kind, description=description, by="system", now=now)
        entry = TagLogEntry(at=iso(now), change="created", tag=name, by="system", reason="starter catalog")
        tags += t.catalog.create(definition, entry)
    rules = sum(t.rules.create(rule, now=iso(now), by="system") for rule in default_rules())
    t.rules.mark_installed(iso(now), DEFAULTS_VERSION)
    logger.info("tagging defaults installed", extra={"tags": tags, "rules": rules})
    return {"tags": tags, "rules": rules}


# ---------------------------------------------------------------------------- catalog changes
def get_definition(t: Tagging, raw: str) -> TagDefinition:
    name = normalise_tag(raw)
    definition = t.catalog.get(name)
    if definition is None:
        raise NotFound(f"no tag {name!r} in the catalog", code="tag_not_found")
    return definition


def create_tag(t: Tagging, body: TagIn, *, by: str, now: datetime) -> TagDefinition:
    definition = define(body.name, kind=body.kind, description=body.description, by=by, now=now)
    entry = TagLogEntry(at=iso(now), change="created", tag=definition.name, by=by, reason=body.description)
    if not t.catalog.create(definition, entry):
        raise Conflict(f"tag {definition.name!r} already exists", code="tag_exists")
    return definition


def update_tag(t: Tagging, raw: str, patch: TagPatch, *, by: str, now: datetime) -> dict[str, Any]:
    definition = get_definition(t, raw)
    if patch.description is not None and patch.description != definition.description:
        definition.description, definition.updated_at = patch.description, iso(now)
        entry = TagLogEntry(at=iso(now), change="updated", tag=definition.name, by=by, reason=patch.reason)
        t.catalog.save(definition, entry)
    if patch.name is None or normalise_tag(patch.name) == definition.name:
        return {"tag": definition.model_dump(), "state": "done"}
    return start_rename(t, definition, normalise_tag(patch.name), by=by, reason=patch.reason, now=now)


def start_rename(
    t: Tagging, old: TagDefinition, new_name: str, *, by: str, reason: str, now: datetime
) -> dict[str, Any]:
    """Creates the new definition, points rules at it, then moves memberships (see continue_rename)."""
    if dimension_of(new_name).system != dimension_of(old.name).system:
        raise Invalid("a tag cannot move between system and marketer dimensions", code="bad_rename")
    existing = t.catalog.get(new_name)
    if existing and existing.renamed_from != old.name:
        raise Conflict(f"tag {new_name!r} already exists", code="tag_exists")
    if old.state == "renaming" and old.renamed_to not in (None, new_name):
        raise Conflict(f"{old.name!r} is already being renamed to {old.renamed_to!r}", code="rename_in_progress")
    new = old.model_copy(
        update={"name": new_name, "dimension": dimension_of(new_name).name, "colour": dimension_of(new_name).colour}
    )
    new.renamed_from, new.updated_at, new.state, new.renamed_to = old.name, iso(now), "renaming", None
    t.catalog.save(new)
    old.state, old.renamed_to, old.updated_at = "renaming", new_name, iso(now)
    t.catalog.save(old)
    for rule in t.rules.all():
        if retarget(rule, old.name, new_name):
            t.rules.save(rule, now=iso(now), by=by)
    return continue_rename(t, old.name, new_name, by=by, reason=reason, now=now)


def retarget(rule: Rule, old: str, new: str) -> bool:
    changed = False
    if rule.tag == old:
        rule.tag, changed = new, True
    for attr in ("also_add", "remove"):
        values = getattr(rule, attr, None)
        if values and old in values:
            setattr(rule, attr, [new if v == old else v for v in values])
            changed = True
    return changed


def continue_rename(t: Tagging, old: str, new: str, *, by: str, reason: str, now: datetime) -> dict[str, Any]:
    """Moves one batch; queues the next step when more remain. Restartable: it re-reads what is left."""
    moved = t.batches.move(old, new, limit=BATCH)
    if moved >= BATCH:
        if t.queue:
            t.queue.send([{"job": "tag-rename", "old": old, "new": new, "by": by, "reason": reason}])
        return {"state": "renaming", "moved": moved, "from": old, "to": new}
    definition = t.catalog.get(new)
    if definition:
        definition.state = "active"
        entry = TagLogEntry(
            at=iso(now), change="renamed", tag=new, by=by, reason=reason, details={"from": old}, event_id=f"from:{old}"
        )
        t.catalog.save(definition, entry)
    t.catalog.remove(
        old,
        TagLogEntry(
            at=iso(now), change="renamed", tag=old, by=by, reason=reason, details={"to": new}, event_id=f"to:{new}"
        ),
    )
    return {
        "state": "done",
        "moved": moved,
        "from": old,
        "to": new,
        "tag": definition.model_dump() if definition else None,
    }


def delete_tag(t: Tagging, raw: str, *, by: str, reason: str, now: datetime) -> dict[str, Any]:
    definition = get_definition(t, raw)
    owners = [r.id for r in t.rules.all() if r.enabled and definition.name in targets(r)]
    if owners:
        raise Conflict(
            f"{definition.name} is set by enabled rule(s) {', '.join(owners)}: disable or change them first",
            code="tag_in_use",
        )
    definition.state = "deleting"
    t.catalog.save(definition)
    return continue_delete(t, definition.name, by=by, reason=reason, now=now)


def continue_delete(t: Tagging, name: str, *, by: str, reason: str, now: datetime) -> dict[str, Any]:
    removed = t.batches.drop(name, limit=BATCH)
    if removed >= BATCH:
        if t.queue:
            t.queue.send([{"job": "tag-delete", "name": name, "by": by, "reason": reason}])
        return {"state": "deleting", "removed": removed, "name": name}
    t.catalog.remove(name, TagLogEntry(at=iso(now), change="deleted", tag=name, by=by, reason=reason))
    return {"state": "done", "removed": removed, "name": name}


# ---------------------------------------------------------------------------- applying changes
def apply_changes(t: Tagging, changes: list[TagChange], now: datetime, *, batch: bool = False) -> list[TagChange]:
    """Writes rule-made changes: skips static tags, registers new dynamic tags in the catalog.
    `batch` writes without conditions (see TagWriter.apply_batch): for writers with their own ledger."""
    if not changes:
        return []
    catalog = t.catalog.all()
    allowed = []
    for change in changes:
        definition = catalog.get(change.tag)
        if definition is None and change.action == "add" and not dimension_of(change.tag).ledger:
            register(t, change, now)
            catalog = t.catalog.all(fresh=True)
        elif definition is not None and definition.kind == "static" and change.source.startswith("rule:"):
            logger.info("rule skipped a static tag", extra={"tag": change.tag, "source": change.source})
            continue
        elif definition is not None and definition.state != "active" and change.action == "add":
            continue  # being renamed or deleted: the rules point elsewhere already
        allowed.append(change)
    return t.writer.apply_batch(allowed) if batch else t.writer.apply(allowed)


def register(t: Tagging, change: TagChange, now: datetime) -> None:
    description = f"created by {change.source}"
    definition = define(change.tag, kind="dynamic", description=description, by=change.source, now=now)
    entry = TagLogEntry(at=iso(now), change="created", tag=change.tag, by=change.source, reason=change.reason)
    t.catalog.create(definition, entry)


def held_tags(t: Tagging, customer_id: str, now: datetime) -> dict[str, dict[str, Any]]:
    """The customer's memberships; expired ones (TTL not swept yet) do not count."""
    stamp = epoch(now)
    return {
        m["name"]: m
        for m in t.memberships.of_customer(customer_id)
        if not m.get("expires_at") or int(m["expires_at"]) > stamp
    }


def tag_event(t: Tagging, item: dict[str, Any]) -> list[TagChange]:
    """The tagger's step for one history item: run the rules at the event's time, write the changes."""
    event = Event.from_item(item)
    rules = t.rules.enabled()
    now = event.occurred_at
    days = needs_history(rules, event.kind)
    history = t.reads.history(event.customer_id, now - timedelta(days=days), now) if days else [event]
    if event not in history:
        history.append(event)
    ctx = Context(event=event, history=history)
    is_order = event.kind == "order_placed"
    if is_order and any(isinstance(r, AttributeRule) for r in rules):
        ctx.profile, ctx.shop = t.reads.aggregates(event.customer_id)
    if not is_order and not evaluate(rules, ctx):
        return []  # nothing fires: no need to read the customer's tags
    ctx.tags = held_tags(t, event.customer_id, now)
    return apply_changes(t, evaluate(rules, ctx), now)


# ---------------------------------------------------------------------------- by hand
def hand_change(
    t: Tagging, customer_id: str, raw: str, *, action: str, by: str, reason: str, now: datetime
) -> tuple[TagChange, bool]:
    """Adds or removes a static tag by hand. Dynamic tags belong to rules: refused."""
    definition = get_definition(t, raw)
    if definition.kind != "static":
        raise Conflict(
            f"{definition.name} is a dynamic tag owned by rules; it cannot be set or removed by hand",
            code="dynamic_tag",
        )
    if definition.state != "active":
        raise Conflict(f"{definition.name} is being {definition.state}", code="tag_busy")
    change = TagChange(
        customer_id=customer_id,
        tag=definition.name,
        action="add" if action == "add" else "remove",
        source=f"hand:{by}",
        reason=reason,
        event_id=f"hand-{uuid.uuid4().hex[:12]}",
        at=iso(now),
    )
    return change, bool(t.writer.apply([change]))


class BulkFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    all_of: list[str] = Field(default=[], max_length=10)
    any_of: list[str] = Field(default=[], max_length=10)
    none_of: list[str] = Field(default=[], max_length=10)
    customers: list[str] = Field(default=[], max_length=5000)


class BulkIn(BaseModel):
    """POST /v1/tags/bulk: who (filter), then add and/or remove static tags."""

    model_config = ConfigDict(extra="forbid", strict=True)
    filter: BulkFilter
    add: list[str] = Field(default=[], max_length=10)
    remove: list[str] = Field(default=[], max_length=10)
    reason: str = Field(default="", max_length=300)
    dry_run: bool = False


BULK_LIMIT = 5000


def bulk_candidates(t: Tagging, flt: BulkFilter, resolve: Any) -> Iterator[str]:
    """Customer ids matching the filter. `resolve(ref)` turns a wa_id/user_id/id into a customer id."""
    if not (flt.all_of or flt.any_of or flt.customers):
        raise Invalid(
            "the filter needs all_of, any_of or customers (a bulk change never means everyone)", code="bad_filter"
        )
    pool: set[str] | None = None
    if flt.customers:
        pool = {resolve(ref) for ref in flt.customers}
    for tag in flt.all_of:
        members = set(t.memberships.members(normalise_tag(tag)))
        pool = members if pool is None else pool & members
    if flt.any_of:
        union: set[str] = set()
        for tag in flt.any_of:
            union |= set(t.memberships.members(normalise_tag(tag)))
        pool = union if pool is None else pool & union
    for tag in flt.none_of:
        pool = (pool or set()) - set(t.memberships.members(normalise_tag(tag)))
    yield from sorted(pool or set())


def bulk(t: Tagging, body: BulkIn, resolve: Any, *, by: str, now: datetime) -> dict[str, Any]:
    if not body.add and not body.remove:
        raise Invalid("nothing to do: give add and/or remove", code="bad_bulk")
    for raw in body.add + body.remove:
        definition = get_definition(t, raw)
        if definition.kind != "static":
            raise Conflict(
                f"{definition.name} is dynamic (owned by rules): bulk changes take static tags", code="dynamic_tag"
            )
    ids = list(bulk_candidates(t, body.filter, resolve))
    if len(ids) > BULK_LIMIT:
        raise Invalid(
            f"{len(ids)} customers match; at most {BULK_LIMIT} per bulk change: narrow the filter", code="too_many"
        )
    if body.dry_run:
        return {"matched": len(ids), "added": 0, "removed": 0, "dry_run": True}
    bulk_id = f"bulk-{uuid.uuid4().hex[:12]}"
    changes = [
        TagChange(
            customer_id=c,
            tag=normalise_tag(tag),
            action=action,
            source=f"hand:{by}",
            reason=body.reason,
            event_id=bulk_id,
            at=iso(now),
        )  # fmt: skip
        for c in ids
        for action, tags in (("add", body.add), ("remove", body.remove))
        for tag in tags
    ]
    applied = t.writer.apply(changes)
    return {
        "matched": len(ids),
        "added": sum(1 for c in applied if c.action == "add"),
        "removed": sum(1 for c in applied if c.action == "remove"),
        "dry_run": False,
    }


def customer_tags(t: Tagging, customer_id: str, now: datetime) -> list[dict[str, Any]]:
    """The customer's tags for the API: name, since, source, reason (and expiry when set)."""
    rows = []
    for name, m in sorted(held_tags(t, customer_id, now).items()):
        row = {"name": name, "since": m.get("since"), "source": m.get("source"), "reason": m.get("reason", "")}
        if m.get("expires_at"):
            row["expires_at"] = iso(datetime.fromtimestamp(int(m["expires_at"]), now.tzinfo))
        rows.append(row)
    return rows


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# ---------------------------------------------------------------------------- rules
def static_tags(t: Tagging) -> set[str]:
    return {name for name, d in t.catalog.all(fresh=True).items() if d.kind == "static"}


def read_rule(data: dict[str, Any]) -> Rule:
    """Parses a rule document; a bad one is refused with the reason (Invalid, 400)."""
    try:
        return parse_rule(data)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}" for e in error.errors()[:5])
        raise Invalid(f"rule refused: {reasons}", code="bad_rule") from error


def create_rule(t: Tagging, data: dict[str, Any], *, by: str, now: datetime) -> Rule:
    rule = validate_rule(read_rule(data), static_tags(t))
    if rule.default:
        raise Invalid("rule refused: 'default' is set by the product only", code="bad_rule")
    rule.id = rule.id or slug(rule.name)[:50].strip("-.") or f"rule-{uuid.uuid4().hex[:8]}"
    if not t.rules.create(rule, now=iso(now), by=by):
        raise Conflict(f"rule {rule.id!r} already exists", code="rule_exists")
    return rule


def replace_rule(t: Tagging, rule_id: str, data: dict[str, Any], *, by: str, now: datetime) -> Rule:
    existing = t.rules.get(rule_id)
    if existing is None:
        raise NotFound(f"no rule {rule_id!r}", code="rule_not_found")
    rule = validate_rule(read_rule({**data, "id": rule_id, "default": existing.default}), static_tags(t))
    t.rules.save(rule, now=iso(now), by=by)
    return rule


def delete_rule(t: Tagging, rule_id: str) -> None:
    existing = t.rules.get(rule_id)
    if existing is None:
        raise NotFound(f"no rule {rule_id!r}", code="rule_not_found")
    if existing.default:
        raise Conflict(f"{rule_id} ships with the product: disable it (enabled=false) instead", code="default_rule")
    t.rules.delete(rule_id)

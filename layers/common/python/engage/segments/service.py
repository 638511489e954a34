"""Segments as the marketers' API sees them: preview a rule, save, read, change and delete segments.

A rule arrives as JSON (an object) or as text (a string); either way it is parsed, validated against
the known tag names and stored in both forms. Saving counts the audience once (`last_count`); the
nightly segment-sizes job (engage.schedules.segments) refreshes it and keeps one size per day.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.time import iso
from engage.segments.evaluator import Audience, PlanCosts, evaluate
from engage.segments.ports import AudienceReader, SegmentStore, TagNames
from engage.segments.rule_tree import Node, from_json, to_json
from engage.segments.text import from_text, to_text
from engage.segments.validation import validate

SAMPLE_SIZE = 20
RuleInput = dict[str, Any] | str


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: RuleInput


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    rule: RuleInput
    description: str = Field(default="", max_length=2000)
    owner: str | None = Field(default=None, max_length=200)


class SegmentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    rule: RuleInput | None = None
    description: str | None = Field(default=None, max_length=2000)
    owner: str | None = Field(default=None, max_length=200)


def parse_rule(raw: Any) -> Node:
    """JSON object or text -> tree. Raises Invalid (`invalid_rule`) with the position of the problem."""
    if isinstance(raw, str):
        return from_text(raw)
    if isinstance(raw, dict):
        return from_json(raw)
    raise Invalid("a rule is a JSON object or a text", code="invalid_rule")


def checked_rule(raw: Any, catalog: TagNames) -> tuple[Node, set[str]]:
    """Parsed and validated; returns the tree and the known tag names it was checked against."""
    node = parse_rule(raw)
    known = catalog.names()
    validate(node, known)
    return node, known


def preview(
    raw: Any,
    *,
    reader: AudienceReader,
    catalog: TagNames,
    now: datetime,
    costs: PlanCosts | None = None,
) -> dict[str, Any]:
    """`{count, sample: [20 customers with wa_id, name, matched tags], took_ms, plan, rule, text}`."""
    started = time.perf_counter()
    node, known = checked_rule(raw, catalog)
    audience = evaluate(node, reader, known, now=now, costs=costs)
    sample = sample_of(audience, reader)
    took_ms = round((time.perf_counter() - started) * 1000, 1)
    return {
        "count": audience.count,
        "sample": sample,
        "took_ms": took_ms,
        "plan": audience.plan,
        "rule": to_json(node),
        "text": to_text(node),
    }


def sample_of(audience: Audience, reader: AudienceReader, size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    ids = audience.ids[:size]
    missing = [cid for cid in ids if cid not in audience.profiles]
    profiles = dict(audience.profiles)
    profiles.update({p.id: p for p in reader.profiles(missing)} if missing else {})
    return [
        {
            "id": cid,
            "wa_id": profiles[cid].wa_id if cid in profiles else None,
            "name": profiles[cid].name if cid in profiles else None,
            "matched_tags": audience.why.get(cid, []),
        }
        for cid in ids
    ]


# ---------------------------------------------------------------- saved segments


def new_segment_id() -> str:
    return "seg_" + uuid.uuid4().hex[:16]


def _ensure_unique_name(store: SegmentStore, name: str, except_id: str | None = None) -> None:
    for other in store.list_all():
        if other["name"].casefold() == name.casefold() and other["id"] != except_id:
            raise Conflict(f"a segment named {name!r} exists already ({other['id']})", code="segment_exists")


def create_segment(
    body: SegmentIn,
    *,
    store: SegmentStore,
    reader: AudienceReader,
    catalog: TagNames,
    caller: str,
    now: datetime,
) -> dict[str, Any]:
    node, known = checked_rule(body.rule, catalog)
    _ensure_unique_name(store, body.name)
    audience = evaluate(node, reader, known, now=now)
    segment = {
        "id": new_segment_id(),
        "name": body.name,
        "description": body.description,
        "owner": body.owner or caller,
        "rule": to_json(node),
        "text": to_text(node),
        "created_at": iso(now),
        "created_by": caller,
        "updated_at": iso(now),
        "last_count": audience.count,
        "last_counted_at": iso(now),
    }
    if not store.create(segment):
        raise Conflict("segment id collision; try again", code="segment_exists")
    return segment


def get_segment(segment_id: str, *, store: SegmentStore, sizes: int = 30) -> dict[str, Any]:
    segment = store.get(segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id!r}", code="segment_not_found")
    return {**segment, "sizes": store.sizes(segment_id, limit=sizes)}


def update_segment(
    segment_id: str,
    change: SegmentChange,
    *,
    store: SegmentStore,
    reader: AudienceReader,
    catalog: TagNames,
    caller: str,
    now: datetime,
) -> dict[str, Any]:
    segment = store.get(segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id!r}", code="segment_not_found")
    if change.name is not None and change.name != segment["name"]:
        _ensure_unique_name(store, change.name, except_id=segment_id)
        segment["name"] = change.name
    if change.description is not None:
        segment["description"] = change.description
    if change.owner is not None:
        segment["owner"] = change.owner
    if change.rule is not None:
        node, known = checked_rule(change.rule, catalog)
        segment.update(rule=to_json(node), text=to_text(node))
        segment.update(last_count=evaluate(node, reader, known, now=now).count, last_counted_at=iso(now))
    segment.update(updated_at=iso(now), updated_by=caller)
    store.save(segment)
    return segment


def delete_segment(segment_id: str, *, store: SegmentStore) -> None:
    if not store.delete(segment_id):
        raise NotFound(f"no segment {segment_id!r}", code="segment_not_found")


def list_segments(*, store: SegmentStore) -> list[dict[str, Any]]:
    return sorted(store.list_all(), key=lambda s: s["name"].casefold())


# ---------------------------------------------------------------- nightly sizes


def record_sizes(*, store: SegmentStore, reader: AudienceReader, catalog: TagNames, now: datetime) -> dict[str, Any]:
    """Counts every saved segment, stores today's size and refreshes `last_count`.

    Also stores the base-size estimate the planner uses (`SEGMENTS / STATS`), from a scan that
    happened anyway or from one read of the customers index.
    """
    known = catalog.names()
    day = now.strftime("%Y-%m-%d")
    counted: dict[str, int] = {}
    failed: dict[str, str] = {}
    base: int | None = None
    for segment in store.list_all():
        try:
            audience = evaluate(parse_rule(segment["rule"]), reader, known, now=now)
        except Invalid as error:
            failed[segment["id"]] = error.message
            continue
        if audience.plan.get("strategy") == "scan":
            base = audience.plan.get("profiles_read")
        store.record_size(segment["id"], day, audience.count, at=iso(now))
        store.save({**segment, "last_count": audience.count, "last_counted_at": iso(now)})
        counted[segment["id"]] = audience.count
    if base is None:
        base = sum(1 for _ in reader.every_profile())
    store.save_stats({"base_size": base, "counted_at": iso(now)})
    return {"day": day, "segments": counted, "failed": failed, "base_size": base}

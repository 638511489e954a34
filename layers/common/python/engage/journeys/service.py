"""Journeys' use cases: manage journeys, react to history items, sweep due runs, report stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from engage.core.errors import Conflict, Invalid, NotFound
from engage.core.time import iso, parse_iso
from engage.journeys import engine
from engage.journeys.defaults import DEFAULTS, DEFAULTS_RELEASE
from engage.journeys.model import SAFE_ID, Journey, JourneyIn, summarise
from engage.journeys.ports import BaseReader, JourneyPorts, SegmentSource
from engage.journeys.runs import DUE_SHARDS, Run
from engage.segments.evaluator import evaluate
from engage.segments.ports import AudienceReader, SegmentStore, TagNames
from engage.segments.service import parse_rule
from engage.tagging.catalog import TagChange

SWEEP_PAGE = 200  # due runs read per shard and query
SHOP_EVENTS = ("order_placed", "cart_abandoned", "product_viewed", "link_clicked")


# ---------------------------------------------------------------- managing journeys
def parse_definition(raw: dict[str, Any]) -> JourneyIn:
    try:
        return JourneyIn.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "journey"
        raise Invalid(f"{where}: {first['msg']}", code="invalid_journey") from None


def install_defaults(ports: JourneyPorts, now: datetime) -> list[str]:
    """Creates the default journeys (disabled) once per release of the defaults: a default the
    marketers deleted stays deleted. Returns the ids it created."""
    if ports.journeys.installed(DEFAULTS_RELEASE):
        return []
    created = []
    for journey_id, raw in DEFAULTS.items():
        journey = Journey(
            id=journey_id, definition=parse_definition(raw), created_at=iso(now), updated_at=iso(now), builtin=True
        )
        if ports.journeys.create(journey):
            created.append(journey_id)
    ports.journeys.mark_installed(DEFAULTS_RELEASE, iso(now))  # last: a crash before it installs again
    return created


def create(ports: JourneyPorts, journey_id: str, definition: JourneyIn, now: datetime) -> Journey:
    if not SAFE_ID.match(journey_id):
        raise Invalid("a journey id is 1-48 lowercase letters, digits and dashes", code="invalid_journey")
    journey = Journey(id=journey_id, definition=definition, created_at=iso(now), updated_at=iso(now))
    if not ports.journeys.create(journey):
        raise Conflict(f"journey {journey_id} exists", code="journey_exists")
    return journey


def get(ports: JourneyPorts, journey_id: str) -> Journey:
    journey = ports.journeys.get(journey_id)
    if journey is None:
        raise NotFound(f"journey {journey_id} not found", code="journey_not_found")
    return journey


def update(ports: JourneyPorts, journey_id: str, definition: JourneyIn, now: datetime) -> Journey:
    """A new version: runs in progress finish on the version they started."""
    current = get(ports, journey_id)
    if current.definition == definition:
        return current
    edited = current.model_copy(
        update={"definition": definition, "version": current.version + 1, "updated_at": iso(now)}
    )
    if not ports.journeys.save(edited, expected_version=current.version):
        raise Conflict(f"journey {journey_id} changed meanwhile; read it again", code="journey_changed")
    return edited


def set_enabled(ports: JourneyPorts, journey_id: str, enabled: bool, now: datetime) -> Journey:
    """Disabling pauses: no one enters, runs keep their place; enabling resumes them."""
    current = get(ports, journey_id)
    if current.enabled == enabled:
        return current
    changed = current.model_copy(update={"enabled": enabled, "updated_at": iso(now)})
    if not ports.journeys.save(changed, expected_version=current.version):
        raise Conflict(f"journey {journey_id} changed meanwhile; read it again", code="journey_changed")
    return changed


def delete(ports: JourneyPorts, journey_id: str) -> None:
    if not ports.journeys.delete(journey_id):
        raise NotFound(f"journey {journey_id} not found", code="journey_not_found")


def view(journey: Journey) -> dict[str, Any]:
    return {
        "id": journey.id,
        "version": journey.version,
        "enabled": journey.enabled,
        "builtin": journey.builtin,
        "summary": summarise(journey.definition),
        "definition": journey.definition.model_dump(mode="json"),
        "created_at": journey.created_at,
        "updated_at": journey.updated_at,
    }


def stats(ports: JourneyPorts, journey_id: str) -> dict[str, Any]:
    get(ports, journey_id)
    counters = ports.runs.counters(journey_id)
    entered = int(counters.get("entered", 0))
    converted = int(counters.get("converted", 0))
    return {
        "journey_id": journey_id,
        "entered": entered,
        "active": {k.removeprefix("at:"): int(v) for k, v in counters.items() if k.startswith("at:") and v > 0},
        "sent": int(counters.get("sent", 0)),
        "sent_by_step": {k.removeprefix("sent:"): int(v) for k, v in counters.items() if k.startswith("sent:")},
        "converted": converted,
        "exited": {k.removeprefix("exited:"): int(v) for k, v in counters.items() if k.startswith("exited:")},
        "conversion_rate": round(converted / entered, 4) if entered else 0.0,
        "revenue": round(float(counters.get("revenue", 0)), 2),
    }


# ---------------------------------------------------------------- triggers
def on_history_item(ports: JourneyPorts, item: dict[str, Any], now: datetime) -> dict[str, int]:
    """A new history item (the tagger's journey processor): events reach the runs waiting for
    them first, then enabled journeys this item triggers start runs. Replays change nothing."""
    kind = str(item.get("kind") or "")
    customer_id = str(item.get("customer_id") or "")
    event_id = str(item.get("event_id") or "")
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    if not customer_id or not event_id or not item.get("occurred_at"):
        return {}
    at = parse_iso(str(item["occurred_at"]))
    assert isinstance(data, dict)
    signal = event_signal(kind, data)
    done = {"moved": 0, "entered": 0}
    if signal:
        reply = data | {"answer": answer_of(data)} if signal == "reply" else data
        done["moved"] = len(engine.on_event(ports, customer_id, signal, event_id, at, now, data=reply))
    for journey in triggered(ports, customer_id, kind, data, event_id):
        if engine.enter(ports, journey, customer_id, f"{kind}:{event_id}", now):
            done["entered"] += 1
    return done


def event_signal(kind: str, data: dict[str, Any]) -> str | None:
    """The event a run can wait for or stop on: a shop event, or `reply` for an inbound message."""
    if kind in SHOP_EVENTS:
        return kind
    if kind == "message" and not data.get("consent_action") and data.get("type") not in ("system", "reaction"):
        return "reply"
    return None


def answer_of(data: dict[str, Any]) -> str:
    """The id of the tapped button or list row (stored as `payload`), else the text typed."""
    if data.get("payload"):
        return str(data["payload"])
    for key in ("button_reply", "list_reply"):
        found = data.get(key)
        if isinstance(found, dict) and found.get("id"):
            return str(found["id"])
    button = data.get("button")
    if isinstance(button, dict) and button.get("payload"):
        return str(button["payload"])
    return str(data.get("text") or "")


def triggered(ports: JourneyPorts, customer_id: str, kind: str, data: dict[str, Any], event_id: str) -> list[Journey]:
    found = []
    for journey in ports.journeys.all():
        if not journey.enabled:
            continue
        trigger = journey.definition.trigger
        match trigger.type:
            case "event":
                hit = kind == trigger.event
            case "opt_in":
                hit = data.get("consent_action") == "opt_in" and kind in ("message", "consent")
            case "first_inbound":
                hit = kind == "message" and ports.profiles.first_message_id(customer_id) == event_id
            case _:
                hit = False
        if hit:
            found.append(journey)
    return found


def on_tag_changes(ports: JourneyPorts, changes: list[TagChange], now: datetime) -> int:
    """Tag triggers, from the tag changes the tagger's rules applied."""
    entered = 0
    journeys = [
        j for j in ports.journeys.all() if j.enabled and j.definition.trigger.type in ("tag_added", "tag_removed")
    ]
    for change in changes:
        wanted = "tag_added" if change.action == "add" else "tag_removed"
        for journey in journeys:
            trigger = journey.definition.trigger
            if trigger.type == wanted and getattr(trigger, "tag", None) == change.tag:
                trigger_id = f"{wanted}:{change.tag}:{change.event_id}"
                entered += bool(engine.enter(ports, journey, change.customer_id, trigger_id, now))
    return entered


def enter_many(ports: JourneyPorts, journey_id: str, customer_ids: list[str], trigger_id: str, now: datetime) -> int:
    """Time-based and segment triggers, from a daily sweep's page of customers."""
    journey = ports.journeys.get(journey_id)
    if journey is None:
        return 0
    return sum(bool(engine.enter(ports, journey, cid, trigger_id, now)) for cid in customer_ids)


def crossed_age(journey: Journey, profile: dict[str, Any] | Any, now: datetime) -> bool:
    """An attribute-age trigger fires on the day the attribute turns `days` old (the daily sweep)."""
    trigger = journey.definition.trigger
    if trigger.type != "attribute_age":
        return False
    value = profile.get(trigger.attribute) if isinstance(profile, dict) else getattr(profile, trigger.attribute, None)
    if not value:
        return False
    age = (now - parse_iso(str(value))).total_seconds() / 86400
    return trigger.days <= age < trigger.days + 1


# ---------------------------------------------------------------- the timer sweep
def sweep(ports: JourneyPorts, now: datetime, *, shards: range | None = None) -> dict[str, int]:
    """Wakes every run due by `now`, shard by shard of the due index (each read is one query)."""
    woken = 0
    for shard in shards or range(DUE_SHARDS):
        seen: set[tuple[str, str]] = set()
        while True:
            due = [key for key in ports.runs.due(shard, now, SWEEP_PAGE) if key not in seen]
            for customer_id, journey_id in due:
                engine.wake(ports, customer_id, journey_id, now)
                seen.add((customer_id, journey_id))
                woken += 1
            if not due:
                break
    return {"woken": woken}


def runs_of(ports: JourneyPorts, customer_id: str) -> list[Run]:
    return ports.runs.of_customer(customer_id)


# ---------------------------------------------------------------- daily triggers
AGE_PAGE = 500  # profiles read per page of the attribute-age sweep


def daily_triggers(ports: JourneyPorts, base: BaseReader, segments: SegmentSource, now: datetime) -> dict[str, Any]:
    """Segment-entry journeys enter today's members (the one-run and re-entry rules keep a member
    from entering again while in, or too soon after); attribute-age journeys fan out over the base
    in pages, one chain per shard of the customers index."""
    enabled = [j for j in ports.journeys.all() if j.enabled]
    entered = 0
    for journey in enabled:
        trigger = journey.definition.trigger
        if trigger.type == "segment_entry":
            members = segments.members(trigger.segment_id, now)
            entered += enter_many(ports, journey.id, members, f"segment:{trigger.segment_id}:{iso(now)[:10]}", now)
    pages = 0
    if any(j.definition.trigger.type == "attribute_age" for j in enabled):
        # every page carries the sweep's time: a page run late still asks "90 days as of the sweep"
        pages_ = [{"job": "journey-age-page", "shard": s, "cursor": None, "now": iso(now)} for s in range(DUE_SHARDS)]
        base.queue_pages(pages_)
        pages = DUE_SHARDS
    return {"segment_entered": entered, "age_pages": pages}


def age_page(ports: JourneyPorts, base: BaseReader, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One page of the attribute-age sweep: customers whose attribute turned the journey's age today."""
    journeys = [j for j in ports.journeys.all() if j.enabled and j.definition.trigger.type == "attribute_age"]
    profiles, cursor = base.profiles(int(payload["shard"]), payload.get("cursor"), AGE_PAGE)
    entered = 0
    for journey in journeys:
        due = [str(p["id"]) for p in profiles if p.get("id") and crossed_age(journey, p, now)]
        entered += enter_many(ports, journey.id, due, f"age:{iso(now)[:10]}", now)
    if cursor:
        base.queue_pages([{"job": "journey-age-page", "shard": payload["shard"], "cursor": cursor, "now": iso(now)}])
    return {"read": len(profiles), "entered": entered, "more": bool(cursor)}


class SavedSegmentMembers:
    """SegmentSource over saved segments and the segment evaluator (the same audience a campaign gets)."""

    def __init__(self, store: SegmentStore, reader: AudienceReader, catalog: TagNames):
        self.store, self.reader, self.catalog = store, reader, catalog

    def members(self, segment_id: str, now: datetime) -> list[str]:
        segment = self.store.get(segment_id)
        if segment is None or not segment.get("rule"):
            return []
        node = parse_rule(segment["rule"])
        return evaluate(node, self.reader, self.catalog.names(), now=now, keep=0).ids

"""The journeys' items: journeys and their versions, runs on the due index, counters, revenue.

Every run move is one TransactWriteItems: the run's conditional update (on `seq`) and the ADD of
its counters to one of the journey's 16 counter items, so a counter moves exactly when the run
does. See docs/journeys.md ("Timing", "Guarantees") and docs/data-model.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr

from engage.adapters.dynamo import keys
from engage.adapters.dynamo.inbound_messages import event_item
from engage.adapters.dynamo.table import Table, Update
from engage.core.time import epoch, iso, parse_iso
from engage.customers.profiles import Customer
from engage.inbound.history import HistoryEvent
from engage.journeys.conversions import Pending
from engage.journeys.model import Journey
from engage.journeys.runs import DUE_SHARDS, Run
from engage.tagging.catalog import TagChange

REVENUE_TTL_DAYS = 400
RUN_FIELDS = tuple(Run.model_fields)


def journey_item(journey: Journey) -> dict[str, Any]:
    return {"type": "journey", **journey.model_dump(mode="json")}


def read_journey(raw: dict[str, Any] | None) -> Journey | None:
    return Journey.model_validate(raw) if raw else None


class JourneyRepository:
    def __init__(self, table: Table):
        self.table = table

    def get(self, journey_id: str) -> Journey | None:
        return read_journey(self.table.get(keys.JOURNEYS_PK, keys.journey_sk(journey_id)))

    def version(self, journey_id: str, version: int) -> Journey | None:
        return read_journey(
            self.table.get(keys.journey_pk(journey_id), keys.journey_version_sk(version), consistent=False)
        )

    def all(self) -> list[Journey]:
        return [Journey.model_validate(raw) for raw in self.table.query(keys.JOURNEYS_PK, sk_prefix="JOURNEY#")]

    def create(self, journey: Journey) -> bool:
        item = journey_item(journey)
        return self.table.transact(
            [
                {
                    "Put": {
                        "Item": item | {"pk": keys.JOURNEYS_PK, "sk": keys.journey_sk(journey.id)},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "Item": item
                        | {"pk": keys.journey_pk(journey.id), "sk": keys.journey_version_sk(journey.version)}
                    }
                },
            ]
        )

    def save(self, journey: Journey, *, expected_version: int) -> bool:
        """The current item under a condition on the version read; a new version also gets its item."""
        item = journey_item(journey)
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "Item": item | {"pk": keys.JOURNEYS_PK, "sk": keys.journey_sk(journey.id)},
                    "ConditionExpression": "attribute_exists(pk) AND #v = :v",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":v": expected_version},
                }
            }
        ]
        if journey.version != expected_version:
            key = {"pk": keys.journey_pk(journey.id), "sk": keys.journey_version_sk(journey.version)}
            actions.append({"Put": {"Item": item | key}})
        return self.table.transact(actions)

    def delete(self, journey_id: str) -> bool:
        """The journey goes; its versions stay, so runs in progress end cleanly (`journey_deleted`)."""
        return self.table.delete(keys.JOURNEYS_PK, keys.journey_sk(journey_id), condition="attribute_exists(pk)")

    def installed(self, release: int) -> bool:
        return self.table.get(keys.JOURNEYS_PK, keys.journeys_installed_sk(release)) is not None

    def mark_installed(self, release: int, at: str) -> None:
        self.table.put({"pk": keys.JOURNEYS_PK, "sk": keys.journeys_installed_sk(release), "at": at})


def run_item(run: Run) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": keys.customer_pk(run.customer_id),
        "sk": keys.journey_run_sk(run.journey_id),
        "type": "journey_run",
        **run.model_dump(mode="json", exclude_none=True),
    }
    if run.state != "done" and run.due_at:
        item["gsi2pk"] = keys.journey_due_pk(run.shard)
        item["gsi2sk"] = f"{run.due_at}#{run.customer_id}#{run.journey_id}"
    return item


def counter_update(journey_id: str, shard: int, counts: Mapping[str, int | float]) -> dict[str, Any]:
    update = Update().add(**counts)
    return {"Update": update.request(keys.journey_pk(journey_id), keys.journey_stats_sk(shard))}


class RunRepository:
    def __init__(self, table: Table):
        self.table = table

    def get(self, customer_id: str, journey_id: str) -> Run | None:
        raw = self.table.get(keys.customer_pk(customer_id), keys.journey_run_sk(journey_id))
        return Run.model_validate(raw) if raw else None

    def of_customer(self, customer_id: str) -> list[Run]:
        items = self.table.query(keys.customer_pk(customer_id), sk_prefix=keys.journey_run_sk(""), consistent=True)
        return [Run.model_validate(raw) for raw in items]

    def enter(self, run: Run, *, reentry_before: str | None) -> bool:
        if run.run_no == 1:
            condition, values = "attribute_not_exists(pk)", {}
        elif reentry_before is None:
            return False
        else:
            condition = "#st = :done AND ended_at <= :cutoff AND trigger_id <> :trigger AND run_no = :prev"
            values = {":done": "done", ":cutoff": reentry_before, ":trigger": run.trigger_id, ":prev": run.run_no - 1}
        put: dict[str, Any] = {"Item": run_item(run), "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeNames"] = {"#st": "state"}
            put["ExpressionAttributeValues"] = values
        counts = {"entered": 1, f"at:{run.step}": 1}
        return self.table.transact([{"Put": put}, counter_update(run.journey_id, run.shard, counts)])

    def advance(
        self, run: Run, *, expected_seq: int, counts: dict[str, int], history: HistoryEvent | None = None
    ) -> bool:
        put = {
            "Item": run_item(run),
            "ConditionExpression": "seq = :seq AND run_no = :run",
            "ExpressionAttributeValues": {":seq": expected_seq, ":run": run.run_no},
        }
        actions: list[dict[str, Any]] = [{"Put": put}]
        changed = {name: n for name, n in counts.items() if n}
        if changed:
            actions.append(counter_update(run.journey_id, run.shard, changed))
        if history is not None:  # once: the run's own condition admits one such move
            actions.append({"Put": {"Item": event_item(history)}})
        return self.table.transact(actions)

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        found = self.table.query(
            keys.journey_due_pk(shard), index="gsi2", sk_between=("0", f"{iso(now)}~"), limit=limit, page_size=limit
        )
        return [(str(raw["customer_id"]), str(raw["journey_id"])) for raw in found]

    def add_revenue(self, run: Run, order_id: str, amount: float) -> bool:
        marker = {
            "pk": keys.journey_pk(run.journey_id),
            "sk": keys.journey_revenue_sk(run.customer_id, run.run_no, order_id),
            "type": "journey_revenue",
            "amount": amount,
            "expires_at": epoch(parse_iso(run.entered_at)) + REVENUE_TTL_DAYS * 86400,
        }
        put = {"Put": {"Item": marker, "ConditionExpression": "attribute_not_exists(pk)"}}
        return self.table.transact([put, counter_update(run.journey_id, run.shard, {"revenue": amount})])

    def counters(self, journey_id: str) -> dict[str, int | float]:
        totals: dict[str, int | float] = {}
        for raw in self.table.query(keys.journey_pk(journey_id), sk_prefix="STATS#"):
            for name, value in raw.items():
                if name not in ("pk", "sk") and isinstance(value, int | float):
                    totals[name] = totals.get(name, 0) + value
        return totals


class JourneyProfiles:
    """One customer's profile, tags, orders, first message and ad click, for branches and triggers."""

    def __init__(self, table: Table, customers: Any):
        self.table = table
        self.customers = customers

    def get(self, customer_id: str) -> Customer | None:
        found: Customer | None = self.customers.get(customer_id)
        return found

    def tags(self, customer_id: str) -> set[str]:
        items = self.table.query(keys.customer_pk(customer_id), sk_prefix=keys.tag_sk(""))
        return {str(raw["sk"]).removeprefix("TAG#") for raw in items}

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        items = self.table.query(
            keys.customer_pk(customer_id),
            sk_between=(f"EVT#{since}", f"EVT#{until}~"),
            filter=Attr("kind").eq("order_placed"),
        )
        return sum(1 for _ in items)

    def first_message_id(self, customer_id: str) -> str | None:
        items = self.table.query(
            keys.customer_pk(customer_id), sk_prefix="EVT#", filter=Attr("kind").eq("message"), limit=1
        )
        for raw in items:
            return str(raw.get("event_id"))
        return None

    def ad_click(self, customer_id: str, *, since: str) -> tuple[str, str] | None:
        items = self.table.query(
            keys.customer_pk(customer_id),
            sk_between=(f"EVT#{since}", "EVT#~"),
            filter=Attr("kind").eq("message") & Attr("data.referral.ctwa_clid").exists(),
            forward=False,
            limit=1,
        )
        for raw in items:
            return str(raw["data"]["referral"]["ctwa_clid"]), str(raw["occurred_at"])
        return None


class JourneyTagWriter:
    """Journey tag steps and survey answers, through the tag writer (memberships and the tag log)."""

    def __init__(self, writer: Any):
        self.writer = writer

    def change(
        self, customer_id: str, add: list[str], remove: list[str], *, source: str, event_id: str, at: str
    ) -> None:
        changes = [
            TagChange(customer_id=customer_id, tag=tag, action=action, source=source, event_id=event_id, at=at)
            for action, tags in (("add", add), ("remove", remove))
            for tag in tags
        ]
        if changes:
            self.writer.apply(changes)


class JourneyHistory:
    def __init__(self, table: Table):
        self.table = table

    def put(self, customer_id: str, kind: str, event_id: str, occurred_at: str, data: dict[str, Any]) -> bool:
        event = HistoryEvent(
            customer_id=customer_id,
            kind=kind,
            event_id=event_id,
            occurred_at=occurred_at,
            received_at=occurred_at,
            data=data,
        )
        return self.table.put(event_item(event), if_absent=True)


def due_shards() -> range:
    return range(DUE_SHARDS)


class ConversionOutbox:
    """Conversions for Meta's Conversions API, kept once per event id (`CAPI#<day>` / `<event id>`).
    While not yet sent or dropped an event sits on the sparse due index (gsi2 `CAPIDUE` /
    `<due>#<event id>`), which the `conversions-post` job reads (journeys.conversions)."""

    def __init__(self, table: Table):
        self.table = table

    def report(self, event: dict[str, Any]) -> None:
        at = iso(datetime.fromtimestamp(int(event["event_time"]), tz=UTC))
        item = {
            "pk": keys.conversion_pk(at[:10]),
            "sk": str(event["event_id"]),
            "type": "conversion",
            "event": event,
            "state": "pending",
            "attempts": 0,
            "gsi2pk": keys.CONVERSIONS_DUE_PK,
            "gsi2sk": f"{at}#{event['event_id']}",
            "expires_at": int(event["event_time"]) + 90 * 86400,
        }
        self.table.put(item, if_absent=True)

    def due(self, now: datetime, limit: int) -> list[Pending]:
        found = self.table.query(
            keys.CONVERSIONS_DUE_PK, index="gsi2", sk_between=("0", f"{iso(now)}~"), limit=limit, page_size=limit
        )
        return [
            Pending(
                day=str(raw["pk"]).removeprefix("CAPI#"),
                event_id=str(raw["sk"]),
                event=dict(raw.get("event") or {}),
                attempts=int(raw.get("attempts") or 0),
                due=str(raw["gsi2sk"]),
            )
            for raw in found
        ]

    def _update(self, pending: Pending, update: Update) -> bool:
        """Applies `update` if the event is still where `pending` saw it on the due index."""
        condition = f"{update.name('gsi2sk')} = {update.value(pending.due)}"
        return bool(self.table.update(keys.conversion_pk(pending.day), pending.event_id, update, condition=condition))

    def claim(self, pending: Pending, until: datetime) -> Pending | None:
        due = f"{iso(until)}#{pending.event_id}"
        return replace(pending, due=due) if self._update(pending, Update().set(gsi2sk=due)) else None

    def sent(self, pending: Pending, at: datetime) -> None:
        self._update(pending, Update().set(state="sent", sent_at=iso(at)).add(attempts=1).remove("gsi2pk", "gsi2sk"))

    def retry(self, pending: Pending, at: datetime, reason: str) -> None:
        update = Update().set(state="retrying", last_error=reason, gsi2sk=f"{iso(at)}#{pending.event_id}")
        self._update(pending, update.add(attempts=1))

    def drop(self, pending: Pending, reason: str, now: datetime) -> None:
        update = Update().set(state="dropped", reason=reason, dropped_at=iso(now)).remove("gsi2pk", "gsi2sk")
        self._update(pending, update.add(attempts=1))


class JourneyBase:
    """BaseReader: the customers index a page at a time (the lifecycle pass's reader) and the PassQueue."""

    def __init__(self, passes: Any, queue: Any):
        self.passes, self.queue = passes, queue

    def profiles(self, shard: int, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        found: tuple[list[dict[str, Any]], str | None] = self.passes.profiles(shard, cursor, limit)
        return found

    def queue_pages(self, pages: list[dict[str, Any]]) -> None:
        self.queue.send(pages)

"""Tag catalog, tag changes with their log, and the log's listing.

CATALOG / TAGDEF#<name>                       a tag definition
CATALOG / LOG#<at>#<tag>#<change>#<id>        a catalog change (created, renamed, deleted, updated)
CUST#<id> / TAGLOG#<at>#<tag>#<change>#<id>   a change of one customer's tags
   both log kinds: gsi1 = TAGLOG#<tag>#<day> / <at>#<customer>#..., gsi2 = TAGLOG#<day> / same
CUST#<id> / TAG#<name>                        the membership (see memberships.py)

A customer tag change is a conditional membership write (add only if absent, remove only if present)
plus its log entry, whose key is derived from (time, tag, change, cause): a replayed change fails its
condition and writes nothing, and the log entry can be rewritten harmlessly (see TagWriter for the
order that lets a retry finish a half-done change).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from engage.adapters.dynamo.keys import (
    CATALOG_PK,
    TAG_HEALTH_SK,
    catalog_log_sk,
    customer_pk,
    expiry_index_sk,
    tag_def_sk,
    tag_index_pk,
    tag_log_by_day_pk,
    tag_log_by_tag_pk,
    tag_log_index_sk,
    tag_log_sk,
    tag_sk,
)
from engage.adapters.dynamo.pages import decode_cursor, encode_cursor, query_page
from engage.adapters.dynamo.table import Table, Update, is_condition_failure
from engage.adapters.dynamo.tagging_memberships import forget_tag_name, membership_item, note_tag_names
from engage.core.time import epoch, parse_iso
from engage.tagging.catalog import TagChange, TagDefinition, TagLogEntry

LOG_RETENTION_DAYS = 400  # log items carry `expires_at`, so DynamoDB TTL trims the log after this
MAX_DAYS_PER_PAGE = 62


def log_item(entry: TagLogEntry) -> dict[str, Any]:
    day = entry.at[:10]
    event_id = entry.event_id or "-"
    index_sk = tag_log_index_sk(entry.at, entry.customer_id, entry.change, event_id)
    if entry.customer_id:
        pk, sk = customer_pk(entry.customer_id), tag_log_sk(entry.at, entry.tag, entry.change, event_id)
    else:
        pk, sk = CATALOG_PK, catalog_log_sk(entry.at, entry.tag, entry.change, event_id)
    return {
        "pk": pk,
        "sk": sk,
        "gsi1pk": tag_log_by_tag_pk(entry.tag, day),
        "gsi1sk": index_sk,
        "gsi2pk": tag_log_by_day_pk(day),
        "gsi2sk": index_sk,
        "type": "taglog",
        **entry.model_dump(exclude_none=True),
        "expires_at": epoch(parse_iso(entry.at) + timedelta(days=LOG_RETENTION_DAYS)),
    }


def change_log_entry(change: TagChange) -> TagLogEntry:
    return TagLogEntry(
        at=change.at,
        change=change.log_change,
        tag=change.tag,
        customer_id=change.customer_id,
        by=change.source,
        reason=change.reason,
        event_id=change.event_id,
    )


class CatalogRepository:
    """Tag definitions and catalog log entries. Reads of the whole catalog are cached briefly."""

    def __init__(self, table: Table, *, max_age: float = 60.0):
        self.table = table
        self.max_age = max_age
        self._cache: tuple[float, dict[str, TagDefinition]] | None = None

    # ------------------------------------------------------------ definitions
    def all(self, *, fresh: bool = False) -> dict[str, TagDefinition]:
        if not fresh and self._cache and time.monotonic() - self._cache[0] < self.max_age:
            return self._cache[1]
        found = {
            item["name"]: TagDefinition.model_validate(item)
            for item in self.table.query(CATALOG_PK, sk_prefix="TAGDEF#", consistent=True)
        }
        self._cache = (time.monotonic(), found)
        return found

    def get(self, name: str) -> TagDefinition | None:
        item = self.table.get(CATALOG_PK, tag_def_sk(name))
        return TagDefinition.model_validate(item) if item else None

    def _item(self, definition: TagDefinition) -> dict[str, Any]:
        return {"pk": CATALOG_PK, "sk": tag_def_sk(definition.name), "type": "tagdef", **definition.model_dump()}

    def create(self, definition: TagDefinition, entry: TagLogEntry) -> bool:
        """Adds the definition, then its log entry; False when the name is taken."""
        created = self.table.put(self._item(definition), if_absent=True)
        if created:
            self.table.put(log_item(entry))
        self._cache = None
        return created

    def save(self, definition: TagDefinition, entry: TagLogEntry | None = None) -> None:
        self.table.put(self._item(definition))
        if entry:
            self.table.put(log_item(entry))
        self._cache = None

    def remove(self, name: str, entry: TagLogEntry) -> None:
        """The definition of a tag deleted or renamed, once its memberships are gone."""
        self.table.put(log_item(entry))
        self.table.delete(CATALOG_PK, tag_def_sk(name))
        forget_tag_name(self.table, name)
        self._cache = None

    def touch(self, names: list[str], now: str) -> None:
        """Marks tags as used by a campaign (its launch calls this; tag health reads `last_used_at`)."""
        for name in names:
            self.table.update(
                CATALOG_PK, tag_def_sk(name), Update().set(last_used_at=now), condition="attribute_exists(pk)"
            )
        self._cache = None

    def save_health(self, report: dict[str, Any], *, at: str) -> None:
        """The latest tag health report (CATALOG / HEALTH), replaced each time."""
        self.table.put({"pk": CATALOG_PK, "sk": TAG_HEALTH_SK, "type": "tag_health", "report": report, "at": at})

    def log(self, entry: TagLogEntry) -> None:
        self.table.put(log_item(entry))


class TagWriter:
    """Applies customer tag changes, each with its log entry, idempotently and without transactions.

    Log entries have deterministic keys, so writing one twice is harmless; the membership writes are
    conditional, so a replayed change is a no-op. Order makes retries complete a half-done change:
    - add: membership first (put if absent), then its log entry. A retry finding the membership already
      written by this very change (same since, source and reason) writes the missing log entry.
    - remove: log entry first, then the delete (if present). A retry re-decides the removal from the
      same event and completes the delete.
    Requests: one conditional write per change plus one batch write per 25 log entries.
    """

    def __init__(self, table: Table):
        self.table = table

    def apply(self, changes: list[TagChange]) -> list[TagChange]:
        """Returns the changes that took effect (replays and no-ops are left out)."""
        removes = [c for c in changes if c.action == "remove"]
        adds = [c for c in changes if c.action == "add"]
        note_tag_names(self.table, (c.tag for c in adds))
        applied: list[TagChange] = []
        if removes:
            self.table.batch_put(log_item(change_log_entry(c)) for c in removes)
            applied += [c for c in removes if self._delete(c)]
        added = [c for c in adds if self._put(c)]
        if added:
            self.table.batch_put(log_item(change_log_entry(c)) for c in added)
        return applied + added

    def apply_batch(self, changes: list[TagChange]) -> list[TagChange]:
        """Unconditional batch writes (25 a request) for a writer that keeps its own ledger of what it set,
        like the nightly pass (`clock_tags` on the profile): rewriting the same change is harmless because
        memberships and log entries are keyed by (customer, tag) and by the change's cause."""
        adds = [c for c in changes if c.action == "add"]
        removes = [c for c in changes if c.action == "remove"]
        note_tag_names(self.table, (c.tag for c in adds))
        self.table.batch_put(
            [
                membership_item(
                    c.customer_id, c.tag, since=c.at, source=c.source, reason=c.reason, expires_at=c.expires_at
                )
                for c in adds
            ]
            + [log_item(change_log_entry(c)) for c in changes]
        )
        self.table.batch_delete((customer_pk(c.customer_id), tag_sk(c.tag)) for c in removes)
        return changes

    def _delete(self, change: TagChange) -> bool:
        response = self._call(
            self.table.client.delete_item,
            Key={"pk": customer_pk(change.customer_id), "sk": tag_sk(change.tag)},
            ConditionExpression="attribute_exists(pk)",
        )
        return response is not None

    def _put(self, change: TagChange) -> bool:
        item = membership_item(
            change.customer_id,
            change.tag,
            since=change.at,
            source=change.source,
            reason=change.reason,
            expires_at=change.expires_at,
        )
        if self.table.put(item, if_absent=True):
            return True
        if change.expires_at:
            self.extend(change)
            return False
        held = self.table.get(item["pk"], item["sk"]) or {}
        ours = (held.get("since"), held.get("source"), held.get("reason")) == (change.at, change.source, change.reason)
        if ours:  # written by this change before a crash: make sure its log entry exists
            self.table.put(log_item(change_log_entry(change)))
        return False

    def _call(self, method: Any, **kwargs: Any) -> dict[str, Any] | None:
        try:
            return dict(method(TableName=self.table.name, **kwargs))
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise

    def extend(self, change: TagChange) -> bool:
        """Pushes a held tag's expiry out (a rule fired again); never shortens it, never adds one."""
        assert change.expires_at is not None
        expires = change.expires_at
        update = Update().set(
            expires_at=expires,
            gsi2pk=membership_item(change.customer_id, change.tag, since="", source="", expires_at=expires)["gsi2pk"],
            gsi2sk=expiry_index_sk(expires, change.customer_id, change.tag),
        )
        name, value = update.name("expires_at"), update.value(expires)
        condition = f"attribute_exists(pk) AND attribute_exists({name}) AND {name} < {value}"
        return bool(self.table.update(customer_pk(change.customer_id), tag_sk(change.tag), update, condition=condition))


class TagLog:
    """Reads the change log newest first: by customer, by tag, or everything, from `since`."""

    def __init__(self, table: Table):
        self.table = table

    def entries(
        self,
        *,
        since: datetime,
        until: datetime,
        tag: str | None = None,
        customer_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        if customer_id:
            return self._by_customer(customer_id, since, until, tag, limit, cursor)
        return self._by_day(since, until, tag, limit, cursor)

    def _by_customer(
        self, customer_id: str, since: datetime, until: datetime, tag: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        bounds = (f"TAGLOG#{since:%Y-%m-%dT%H:%M:%SZ}", f"TAGLOG#{until:%Y-%m-%dT%H:%M:%SZ}~")
        items, last = query_page(
            self.table,
            customer_pk(customer_id),
            sk_between=bounds,
            forward=False,
            limit=limit,
            start_key=decode_cursor(cursor),
            filters={"tag": tag} if tag else None,
        )
        return [clean(i) for i in items], encode_cursor(last)

    def _by_day(
        self, since: datetime, until: datetime, tag: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        state = decode_cursor(cursor) or {"d": until.strftime("%Y-%m-%d"), "k": None}
        day = datetime.strptime(state["d"], "%Y-%m-%d").replace(tzinfo=since.tzinfo)
        start_key = state["k"]
        rows: list[dict[str, Any]] = []
        bounds = (f"{since:%Y-%m-%dT%H:%M:%SZ}", f"{until:%Y-%m-%dT%H:%M:%SZ}~")
        for _ in range(MAX_DAYS_PER_PAGE):
            if day.date() < since.date():
                return rows, None
            label = day.strftime("%Y-%m-%d")
            index, pk = ("gsi1", tag_log_by_tag_pk(tag, label)) if tag else ("gsi2", tag_log_by_day_pk(label))
            items, last = query_page(
                self.table,
                pk,
                index=index,
                sk_between=bounds,
                forward=False,
                limit=limit - len(rows),
                start_key=start_key,
            )
            rows += [clean(i) for i in items]
            if last:
                return rows, encode_cursor({"d": label, "k": last})
            day, start_key = day - timedelta(days=1), None
            if len(rows) >= limit:
                break
        done = day.date() < since.date()
        return rows, None if done else encode_cursor({"d": day.strftime("%Y-%m-%d"), "k": None})


def clean(item: dict[str, Any]) -> dict[str, Any]:
    return TagLogEntry.model_validate(item).model_dump(exclude_none=True)


def members(table: Table, tag: str, *, limit: int) -> Iterator[dict[str, Any]]:
    """Full membership items of `tag` (the index projects every attribute)."""
    yield from table.query(tag_index_pk(tag), index="gsi1", limit=limit)

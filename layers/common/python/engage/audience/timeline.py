"""A customer's timeline, newest first: what they wrote and did, what we sent and what became of it,
and how their tags changed and why.

Three kinds of item in the customer's partition make it:

- history items `EVT#<time>#<kind>#<id>`: messages in, shop events, clicks, consent changes, and
  whatever other capabilities record (journeys, groups, rewards). Every kind is shown, unknown
  kinds with their kind and data, so a new kind needs no change here;
- tag changes `TAGLOG#<at>#<tag>#<change>#<cause>`, with who or which rule and why;
- send items `SEND#<send key>`, with their state, WhatsApp status, and click and reply times.

The first two are kept in time order by their keys and read lazily, newest first; a customer's
sends are few (the caps allow a handful a month) and are read whole and sorted. A page ends at
a position (time and key) and the next one starts strictly after it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, Protocol

from engage.core.errors import Invalid

MAX_LIMIT = 200
SEND_TIME_FIELDS = ("intent_at", "sent_at", "updated_at")
SEND_FIELDS = (
    "send_key",
    "campaign_id",
    "variant",
    "category",
    "content",
    "state",
    "status",
    "reason",
    "release_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "clicked_at",
    "replied_at",
    "opted_out_at",
    "failed_at",
    "error_code",
    "error_title",
    "wamid",
)
DIRECTION = {"message": "in", "link_clicked": "in", "send": "out"}


class HistoryReader(Protocol):
    def events(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        """History items (`EVT#`) newest first, from time `until` (inclusive) back; None: from the newest."""
        ...

    def tag_changes(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        """Tag change log items (`TAGLOG#`) newest first, from `until` (inclusive) back."""
        ...

    def sends(self, customer_id: str) -> list[Mapping[str, Any]]:
        """Every send item of the customer (any order)."""
        ...


Entry = dict[str, Any]
Position = tuple[str, str]  # (time, key): the order of the timeline, newest first


def event_entry(item: Mapping[str, Any]) -> Entry:
    kind = str(item.get("kind") or str(item["sk"]).split("#")[2])
    entry: Entry = {
        "at": str(item["sk"]).split("#")[1],  # the key's time: the order the partition keeps
        "kind": kind,
        "id": str(item.get("event_id") or str(item["sk"]).split("#", 3)[-1]),
        "data": dict(item.get("data") or {}),
    }
    if kind in DIRECTION:
        entry["direction"] = DIRECTION[kind]
    return entry


def tag_entry(item: Mapping[str, Any]) -> Entry:
    return {
        "at": str(item["at"]),
        "kind": f"tag_{item['change']}",
        "tag": item["tag"],
        "by": item.get("by"),
        "reason": item.get("reason") or "",
        **({"cause": item["event_id"]} if item.get("event_id") and item.get("event_id") != "-" else {}),
    }


def send_time(item: Mapping[str, Any]) -> str:
    return next((str(item[f]) for f in SEND_TIME_FIELDS if item.get(f)), "")


def send_entry(item: Mapping[str, Any]) -> Entry:
    return {
        "at": send_time(item),
        "kind": "send",
        "direction": "out",
        **{f: item[f] for f in SEND_FIELDS if item.get(f) is not None},
    }


def _keyed(items: Iterable[Mapping[str, Any]], shape: Any) -> Iterator[tuple[Position, Entry]]:
    for item in items:
        entry = shape(item)
        yield (entry["at"], str(item["sk"])), entry


def parse_position(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    at, sep, key = cursor.partition("|")
    if not sep or not at or not key:
        raise Invalid("cursor is not one this listing returned", code="invalid_cursor")
    return at, key


def timeline(
    reader: HistoryReader, customer_id: str, *, limit: int, after: str | None
) -> tuple[list[Entry], str | None]:
    """Up to `limit` entries newest first, strictly older than position `after`, and the next position."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", code="bad_query")
    start = parse_position(after)
    until = start[0] if start else None
    sends = sorted(
        ((send_time(i), str(i["sk"])), i) for i in reader.sends(customer_id) if send_time(i)
    )  # oldest first; reversed below
    streams = [
        _keyed(reader.events(customer_id, until), event_entry),
        _keyed(reader.tag_changes(customer_id, until), tag_entry),
        ((position, send_entry(i)) for position, i in reversed(sends)),
    ]
    merged = heapq.merge(*streams, key=lambda pair: pair[0], reverse=True)
    older = (pair for pair in merged if start is None or pair[0] < start)
    page = list(islice(older, limit + 1))
    entries = [entry for _, entry in page[:limit]]
    if len(page) <= limit:
        return entries, None
    at, key = page[limit - 1][0]
    return entries, f"{at}|{key}"

"""Tag memberships: who holds which tag, readable from both sides; and the names of tags in use.

CUST#<id> / TAG#<name>   gsi1 = TAG#<name> / CUST#<id>
TAGNAMES / <name>        a tag that has had members
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from engage.adapters.dynamo.customers import customer_shard
from engage.adapters.dynamo.keys import (
    TAG_NAMES_PK,
    customer_id_of,
    customer_pk,
    expiry_index_pk,
    expiry_index_sk,
    tag_index_pk,
    tag_sk,
)
from engage.adapters.dynamo.table import Table, from_dynamo

# ---------------------------------------------------------------- names of tags in use
# Uncatalogued tags (`bought:<yyyy-mm>:<product>`, `product:<slug>`) exist only as memberships. Every
# writer of memberships lists the tag's name first (TAGNAMES / <name>), so the segments' catalog
# reads the names with one Query (segments_audience.TableTagCatalog) instead of scanning the
# membership index, which grows with the audience. A container puts a name once an hour at most.
NOTE_AGAIN_AFTER = 3600.0  # s: a name deleted meanwhile (tag delete or rename) is listed again if in use
_noted: weakref.WeakKeyDictionary[Table, dict[str, float]] = weakref.WeakKeyDictionary()


def tag_name_item(name: str) -> dict[str, Any]:
    return {"pk": TAG_NAMES_PK, "sk": name, "type": "tag_name"}


def note_tag_names(table: Table, names: Iterable[str]) -> None:
    """Lists the names among the tags in use; before the memberships are written, so a crash between
    the two leaves a listed name without members (harmless), never members of an unlisted name."""
    noted = _noted.setdefault(table, {})
    now = time.monotonic()
    for name in sorted(set(names)):
        if now - noted.get(name, -NOTE_AGAIN_AFTER) >= NOTE_AGAIN_AFTER:
            table.put(tag_name_item(name))
            noted[name] = now


def forget_tag_name(table: Table, name: str) -> None:
    """Takes a deleted or renamed tag off the list (a container that still holds members of it lists it again)."""
    table.delete(TAG_NAMES_PK, name)
    _noted.get(table, {}).pop(name, None)


def membership_item(
    customer_id: str, tag: str, *, since: str, source: str, reason: str = "", expires_at: int | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": customer_pk(customer_id),
        "sk": tag_sk(tag),
        "gsi1pk": tag_index_pk(tag),
        "gsi1sk": customer_pk(customer_id),
        "type": "tag",
        "name": tag,
        "customer_id": customer_id,
        "since": since,
        "source": source,
        "reason": reason,
        "expires_at": expires_at,
    }
    if expires_at:  # indexed by expiry, so the nightly pass removes it on time (TTL alone may lag ~2 days)
        item["gsi2pk"] = expiry_index_pk(customer_shard(customer_id))
        item["gsi2sk"] = expiry_index_sk(expires_at, customer_id, tag)
    return item


class MembershipRepository:
    def __init__(self, table: Table):
        self.table = table

    def add(
        self, customer_id: str, tag: str, *, since: str, source: str, reason: str = "", expires_at: int | None = None
    ) -> bool:
        """Adds the tag unless the customer holds it already. Returns True when it was added."""
        item = membership_item(customer_id, tag, since=since, source=source, reason=reason, expires_at=expires_at)
        note_tag_names(self.table, [tag])
        return self.table.put(item, if_absent=True)

    def remove(self, customer_id: str, tag: str) -> dict[str, Any] | None:
        """Removes the tag; returns the removed membership, or None if the customer did not hold it."""
        response = self.table.client.delete_item(
            TableName=self.table.name,
            Key={"pk": customer_pk(customer_id), "sk": tag_sk(tag)},
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes")
        return from_dynamo(old) if old else None

    def of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        return list(self.table.query(customer_pk(customer_id), sk_prefix="TAG#", consistent=True))

    def members(self, tag: str) -> Iterator[str]:
        """Customer ids holding `tag`, every page of the index."""
        for row in self.table.query(tag_index_pk(tag), index="gsi1", keys_only=True):
            yield customer_id_of(row["gsi1sk"])

    def count(self, tag: str) -> int:
        return self.table.count(tag_index_pk(tag), index="gsi1")

"""What the tagger reads (history window, order aggregates) and the batch moves of renames/deletes.

STATS / SHOP   item_count, item_value over every order (the shop average item price)
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from engage.adapters.dynamo.customers import CUSTOMER_SHARDS, PROFILE
from engage.adapters.dynamo.keys import CONFIG_PK, SHOP_STATS_SK, STATS_PK, customer_pk, tag_index_pk, tag_sk
from engage.adapters.dynamo.table import Table
from engage.adapters.dynamo.tagging_memberships import membership_item, note_tag_names
from engage.core.time import iso
from engage.tagging.rules import Event


class TaggingReads:
    def __init__(self, table: Table):
        self.table = table
        self._config: tuple[float, dict[str, Any]] | None = None

    def history(self, customer_id: str, since: datetime, until: datetime) -> list[Event]:
        """The customer's history items with since <= occurred_at <= until (to the second)."""
        bounds = (f"EVT#{iso(since)}", f"EVT#{iso(until)}~")
        items = self.table.query(customer_pk(customer_id), sk_between=bounds, consistent=True)
        return [Event.from_item(i) for i in items if i.get("type") == "event"]

    def aggregates(self, customer_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(profile, shop stats) in one read."""
        found = self.table.batch_get([(customer_pk(customer_id), PROFILE), (STATS_PK, SHOP_STATS_SK)])
        profile = next((i for i in found if i["sk"] == PROFILE), {})
        shop = next((i for i in found if i["pk"] == STATS_PK), {})
        return profile, shop

    def config(self, max_age: float = 0) -> dict[str, Any]:
        """CONFIG / tagging: marketer overrides of the tagging defaults ({"health": {...}, "lifecycle": {...}}),
        re-read after `max_age` seconds."""
        if self._config and time.monotonic() - self._config[0] < max_age:
            return self._config[1]
        item = self.table.get(CONFIG_PK, "tagging")
        self._config = (time.monotonic(), dict(item.get("config") or {}) if item else {})
        return self._config[1]

    def forget_config(self) -> None:
        """The next `config()` reads the table (after a change through /v1/settings)."""
        self._config = None

    def customer_count(self) -> int:
        """Size of the base: COUNT queries over the 16 shards of the customers index."""
        return sum(self.table.count(f"CUSTOMERS#{k}", index="gsi2") for k in range(CUSTOMER_SHARDS))


class MembershipBatches:
    """Moves or drops a tag's memberships a batch at a time (renames and deletes of big tags)."""

    def __init__(self, table: Table):
        self.table = table

    def _page(self, tag: str, limit: int) -> list[dict[str, Any]]:
        return list(self.table.query(tag_index_pk(tag), index="gsi1", limit=limit))

    def move(self, old: str, new: str, *, limit: int) -> int:
        """Re-keys up to `limit` memberships of `old` as `new` (since, source, reason, expiry kept)."""
        page = self._page(old, limit)
        note_tag_names(self.table, [new])
        self.table.batch_put(
            membership_item(
                m["customer_id"],
                new,
                since=m["since"],
                source=m.get("source", "system"),
                reason=m.get("reason", ""),
                expires_at=m.get("expires_at"),
            )
            for m in page
        )
        self.table.batch_delete((customer_pk(m["customer_id"]), tag_sk(old)) for m in page)
        return len(page)

    def drop(self, tag: str, *, limit: int) -> int:
        page = self._page(tag, limit)
        self.table.batch_delete((customer_pk(m["customer_id"]), tag_sk(tag)) for m in page)
        return len(page)

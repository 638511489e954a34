"""State of the nightly lifecycle pass and the profile pages it walks.

PASS#<run> / RUN                      now, audit, shards_done (string set), cuts (quintile cut points), scoring_queued
PASS#<run> / STATS#<shard>#<page>     R, F, M sketches of one page (step 1)
CUST#<id> / PROFILE                   clock_tags (what the pass set last), rfm {r, f, m, score, group}
Pass items expire (TTL) after 14 days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engage.adapters.dynamo.customers import PROFILE
from engage.adapters.dynamo.keys import customer_pk, expiry_index_pk, pass_pk
from engage.adapters.dynamo.pages import decode_cursor, encode_cursor, query_page
from engage.adapters.dynamo.table import Table, Update
from engage.core.time import epoch, parse_iso

PASS_TTL_DAYS = 14


class PassRepository:
    def __init__(self, table: Table):
        self.table = table

    def _ttl(self, run_id: str) -> int:
        return epoch(parse_iso(run_id + "T00:00:00Z") + timedelta(days=PASS_TTL_DAYS)) if len(run_id) == 10 else 0

    def profiles(self, shard: int, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        items, last = query_page(
            self.table, f"CUSTOMERS#{shard}", index="gsi2", limit=limit, start_key=decode_cursor(cursor)
        )
        return items, encode_cursor(last)

    def put_stats(self, run_id: str, shard: int, page: int, stats: dict[str, Any]) -> None:
        item = {"pk": pass_pk(run_id), "sk": f"STATS#{shard:02d}#{page:05d}", "type": "pass_stats", **stats}
        self.table.put({**item, "expires_at": self._ttl(run_id) or None})

    def shard_done(self, run_id: str, shard: int) -> int:
        """Records the shard as sketched (a set: retries count once); returns how many shards are done."""
        response = self.table.client.update_item(
            TableName=self.table.name,
            Key={"pk": pass_pk(run_id), "sk": "RUN"},
            UpdateExpression="ADD #done :shard",
            ExpressionAttributeNames={"#done": "shards_done"},
            ExpressionAttributeValues={":shard": {str(shard)}},
            ReturnValues="ALL_NEW",
        )
        return len(response["Attributes"].get("shards_done", set()))

    def all_stats(self, run_id: str) -> list[dict[str, Any]]:
        return list(self.table.query(pass_pk(run_id), sk_prefix="STATS#", consistent=True))

    def get_cuts(self, run_id: str) -> dict[str, Any] | None:
        item = self.get_run(run_id)
        return item.get("cuts") if item else None

    def start_run(self, run_id: str, fields: dict[str, Any]) -> None:
        update = Update().set_if_absent(**fields, type="pass_run")
        if self._ttl(run_id):
            update.set(expires_at=self._ttl(run_id))
        self.table.update(pass_pk(run_id), "RUN", update)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self.table.get(pass_pk(run_id), "RUN")

    def mark_run(self, run_id: str, fields: dict[str, Any]) -> None:
        self.table.update(pass_pk(run_id), "RUN", Update().set(**fields))

    def save_profile(self, customer_id: str, clock_tags: list[str], scores: dict[str, Any] | None) -> None:
        update = Update().set(clock_tags=clock_tags, rfm=scores)
        self.table.update(customer_pk(customer_id), PROFILE, update, condition="attribute_exists(pk)")

    def expiring(self, shard: int, until: int, limit: int) -> list[dict[str, Any]]:
        """Memberships of the shard whose expiry is at or before `until` (oldest first, at most `limit`)."""
        bounds = ("0", f"{until:011d}~")
        items = self.table.query(expiry_index_pk(shard), index="gsi2", sk_between=bounds, limit=limit)
        return [i for i in items if i.get("type") == "tag" and i.get("expires_at") and int(i["expires_at"]) <= until]

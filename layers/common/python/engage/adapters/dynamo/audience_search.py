"""The indexes a customer search walks, and the profiles and memberships it checks.

gsi1 NAME#<first character> / <folded name>#<id>     profiles by name (prefix: one partition)
gsi1 PHONE#<first 2 digits> / <wa_id>                phone identities by number (prefix: 1 or 10 partitions)
gsi1 TAG#<name> / CUST#<id>                          a tag's members
gsi2 CUSTOMERS#<shard 0-15> / <id>                   the whole base, shard after shard

A position is the index sort key of the last candidate read (for the whole base `<shard>#<id>`);
the table key of that item follows from it, so a page resumes with ExclusiveStartKey.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engage.adapters.dynamo.customers import CUSTOMER_SHARDS, IDENTITY, PROFILE, identity_pk, name_index
from engage.adapters.dynamo.keys import customer_pk, customers_index_pk, phone_index_key, tag_index_pk, tag_sk
from engage.adapters.dynamo.pages import decode_cursor, encode_cursor, query_page
from engage.adapters.dynamo.table import Table, Update
from engage.audience.search import Path, Profile

CUSTOMER_PREFIX = "CUST#"


class DynamoCustomerDirectory:
    def __init__(self, table: Table):
        self.table = table

    # ---------------------------------------------------------------- candidates
    def candidates(self, path: Path, value: str | None, after: str | None, limit: int) -> list[tuple[str, str]]:
        if path == "name" and value:
            return self._name(value, after, limit)
        if path == "phone" and value:
            return self._phone(value, after, limit)
        if path == "tag" and value:
            return self._tag(value, after, limit)
        return self._everyone(after, limit)

    def _page(
        self, index: str, pk: str, prefix: str | None, start: dict[str, Any] | None, limit: int
    ) -> list[dict[str, Any]]:
        items, _ = query_page(self.table, pk, index=index, sk_prefix=prefix, limit=limit, start_key=start)
        return items

    def _name(self, prefix: str, after: str | None, limit: int) -> list[tuple[str, str]]:
        pk = f"NAME#{prefix[0]}"
        start = None
        if after:
            customer_id = after.rsplit("#", 1)[-1]
            start = {"pk": customer_pk(customer_id), "sk": PROFILE, "gsi1pk": pk, "gsi1sk": after}
        items = self._page("gsi1", pk, prefix, start, limit)
        return [(i["gsi1sk"], i["gsi1sk"].rsplit("#", 1)[-1]) for i in items]

    def _phone(self, prefix: str, after: str | None, limit: int) -> list[tuple[str, str]]:
        """A 2+ digit prefix is one partition; a 1-digit prefix walks its 10 partitions in order."""
        partitions = [prefix[:2]] if len(prefix) >= 2 else [f"{prefix}{d}" for d in range(10)]
        found: list[tuple[str, str]] = []
        for part in partitions:
            if after and part < after[:2]:
                continue
            pk = f"PHONE#{part}"
            start = None
            if after and after[:2] == part:
                start = {"pk": identity_pk(wa_id=after), "sk": IDENTITY, "gsi1pk": pk, "gsi1sk": after}
            items = self._page("gsi1", pk, prefix, start, limit - len(found))
            found += [(i["gsi1sk"], i["customer_id"]) for i in items]
            if len(found) >= limit:
                break
        return found

    def _tag(self, tag: str, after: str | None, limit: int) -> list[tuple[str, str]]:
        pk = tag_index_pk(tag)
        start = None
        if after:
            start = {"pk": after, "sk": tag_sk(tag), "gsi1pk": pk, "gsi1sk": after}
        items = self._page("gsi1", pk, None, start, limit)
        return [(i["gsi1sk"], i["gsi1sk"].removeprefix(CUSTOMER_PREFIX)) for i in items]

    def _everyone(self, after: str | None, limit: int) -> list[tuple[str, str]]:
        first_shard, last_id = 0, None
        if after:
            shard_text, _, last_id = after.partition("#")
            first_shard = int(shard_text)
        found: list[tuple[str, str]] = []
        for shard in range(first_shard, CUSTOMER_SHARDS):
            pk = customers_index_pk(shard)
            start = None
            if last_id and shard == first_shard:
                start = {"pk": customer_pk(last_id), "sk": PROFILE, "gsi2pk": pk, "gsi2sk": last_id}
            items = self._page("gsi2", pk, None, start, limit - len(found))
            found += [(f"{shard:02d}#{i['gsi2sk']}", i["gsi2sk"]) for i in items]
            if len(found) >= limit:
                break
        return found

    # ---------------------------------------------------------------- checks
    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Profile]:
        items = self.table.batch_get([(customer_pk(c), PROFILE) for c in customer_ids])
        return {str(i["id"]): Profile.model_validate(i) for i in items if i.get("id")}

    def holders(self, tag: str, customer_ids: Sequence[str]) -> set[str]:
        items = self.table.batch_get([(customer_pk(c), tag_sk(tag)) for c in customer_ids])
        return {str(i["pk"]).removeprefix(CUSTOMER_PREFIX) for i in items}


class SearchIndexRepair:
    """Puts profiles and phone identities written before the search indexes existed into them.

    Idempotent: an item already indexed is left alone, so a page run twice (SQS redelivery) or the
    whole job run again writes nothing new.
    """

    shards = CUSTOMER_SHARDS

    def __init__(self, table: Table):
        self.table = table

    def repair_page(self, shard: int, cursor: str | None, limit: int) -> tuple[int, str | None]:
        """Indexes the next `limit` profiles of one shard; returns (items written, cursor of the next page)."""
        keys, last = query_page(
            self.table, customers_index_pk(shard), index="gsi2", limit=limit, start_key=decode_cursor(cursor)
        )
        ids = [str(k["gsi2sk"]) for k in keys]
        profiles = self.table.batch_get([(customer_pk(c), PROFILE) for c in ids])
        written = 0
        for item in profiles:
            customer_id = str(item["id"])
            wanted = name_index(customer_id, item.get("name"))
            if wanted and (item.get("gsi1pk"), item.get("gsi1sk")) != (wanted["gsi1pk"], wanted["gsi1sk"]):
                written += bool(
                    self.table.update(
                        customer_pk(customer_id), PROFILE, Update().set(**wanted), condition="attribute_exists(pk)"
                    )
                )
            if item.get("wa_id"):
                written += self._index_phone(customer_id, str(item["wa_id"]))
        return written, encode_cursor(last)

    def _index_phone(self, customer_id: str, wa_id: str) -> int:
        pk, sk = phone_index_key(wa_id)
        update = Update().set(gsi1pk=pk, gsi1sk=sk)
        mine = update.value(customer_id)
        # Only this customer's own identity, and only when not indexed yet.
        condition = f"customer_id = {mine} AND attribute_not_exists(gsi1pk)"
        return int(bool(self.table.update(identity_pk(wa_id=wa_id), IDENTITY, update, condition=condition)))

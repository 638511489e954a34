"""What the segment evaluator reads from the table, and the tag names it validates against.

- member sets: gsi1 `TAG#<name>` (one query per tag, every page, tags read in parallel);
- candidate profiles: BatchGetItem of `CUST#<id> / PROFILE`, 100 keys a call, eventually consistent
  (a segment does not need read-after-write; it halves the read units);
- the whole base: gsi2 `CUSTOMERS#0..15`, the 16 shards read in parallel, every page;
- windowed order counts: the customer's `EVT#<time>#order_placed#...` history items in the window;
- the base-size estimate: DescribeTable's gsi2 ItemCount (free, refreshed by DynamoDB about every
  6 hours), else the `SEGMENTS / STATS` item the nightly segment-sizes job writes.

Threads use the table's low-level client (thread-safe), not the resource.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from engage.adapters.dynamo.customers import CUSTOMER_SHARDS, PROFILE
from engage.adapters.dynamo.keys import (
    CATALOG_PK,
    SEGMENT_STATS_SK,
    SEGMENTS_PK,
    TAG_NAMES_COMPLETE_SK,
    TAG_NAMES_PK,
    customer_id_of,
    customer_pk,
    tag_index_pk,
)
from engage.adapters.dynamo.table import BATCH_GET_LIMIT, Table, from_dynamo
from engage.adapters.dynamo.tagging_memberships import tag_name_item
from engage.customers.profiles import Customer

PARALLEL = 16


class DynamoAudienceReader:
    def __init__(self, table: Table, *, parallel: int = PARALLEL):
        self.table = table
        self.parallel = parallel

    # ---------------------------------------------------------------- index reads
    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.table.name
        while True:
            response = self.table.client.query(**kwargs)
            for item in response.get("Items", []):
                yield from_dynamo(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def members(self, tag: str) -> set[str]:
        items = self._query(
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(tag_index_pk(tag)),
            ProjectionExpression="gsi1sk",  # CUST#<id>: the index projects keys only
        )
        return {customer_id_of(item["gsi1sk"]) for item in items}

    def member_sets(self, tags: Sequence[str]) -> dict[str, set[str]]:
        unique = list(dict.fromkeys(tags))
        if len(unique) <= 1:
            return {tag: self.members(tag) for tag in unique}
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(unique))) as pool:
            return dict(zip(unique, pool.map(self.members, unique), strict=True))

    def _pages(self, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        kwargs["TableName"] = self.table.name
        while True:
            response = self.table.client.query(**kwargs)
            yield response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def every_profile(self) -> Iterator[Customer]:
        """The 16 shards read in parallel; pages handed over through a bounded queue, so memory
        holds a few pages, not the base. Closing the iterator early stops the readers."""
        pages: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=2 * self.parallel)
        stop = threading.Event()

        def offer(page: list[dict[str, Any]] | None) -> None:
            while not stop.is_set():
                try:
                    pages.put(page, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def read_shard(shard: int) -> None:
            try:
                for page in self._pages(
                    IndexName="gsi2", KeyConditionExpression=Key("gsi2pk").eq(f"CUSTOMERS#{shard}")
                ):
                    offer(page)
                    if stop.is_set():
                        return
            finally:
                offer(None)

        with ThreadPoolExecutor(max_workers=min(self.parallel, CUSTOMER_SHARDS)) as pool:
            futures = [pool.submit(read_shard, shard) for shard in range(CUSTOMER_SHARDS)]
            try:
                done = 0
                while done < CUSTOMER_SHARDS:
                    page = pages.get()
                    if page is None:
                        done += 1
                        continue
                    # The index projects keys only (profile updates never rewrite it): the page's
                    # profiles are read by key, 100 a request.
                    ids = [customer_id_of(from_dynamo(item)["pk"]) for item in page]
                    for start in range(0, len(ids), BATCH_GET_LIMIT):
                        for item in self._batch_get(ids[start : start + BATCH_GET_LIMIT]):
                            yield Customer.model_validate(item)
            finally:
                stop.set()
            for future in futures:
                future.result()  # a failed shard read fails the whole read

    # ---------------------------------------------------------------- point reads
    def profiles(self, customer_ids: Sequence[str]) -> Iterator[Customer]:
        ids = list(dict.fromkeys(customer_ids))
        chunks = [ids[i : i + BATCH_GET_LIMIT] for i in range(0, len(ids), BATCH_GET_LIMIT)]
        if not chunks:
            return
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(chunks))) as pool:
            for items in pool.map(self._batch_get, chunks):
                for item in items:
                    yield Customer.model_validate(item)

    def _batch_get(self, ids: list[str]) -> list[dict[str, Any]]:
        pending: dict[str, Any] = {
            self.table.name: {"Keys": [{"pk": customer_pk(i), "sk": PROFILE} for i in ids], "ConsistentRead": False}
        }
        found: list[dict[str, Any]] = []
        attempt = 0
        while pending:
            response = self.table.client.batch_get_item(RequestItems=pending)
            found.extend(from_dynamo(i) for i in response.get("Responses", {}).get(self.table.name, []))
            pending = response.get("UnprocessedKeys") or {}
            if pending:
                attempt += 1
                self.table.backoff.wait(attempt, "batch_get")  # bounded, jittered; raises StorageError
        return found

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        items = self.table.query(
            customer_pk(customer_id),
            sk_between=(f"EVT#{since}", f"EVT#{until}~"),
            filter=Attr("kind").eq("order_placed"),
        )
        return sum(1 for _ in items)

    # ---------------------------------------------------------------- estimates
    def base_size(self) -> int | None:
        try:
            table = self.table.client.describe_table(TableName=self.table.name)["Table"]
            for index in table.get("GlobalSecondaryIndexes", []):
                if index["IndexName"] == "gsi2" and index.get("ItemCount"):
                    return int(index["ItemCount"])
        except ClientError:  # an estimate only: fall back to the nightly figure
            pass
        stats = self.table.get(SEGMENTS_PK, SEGMENT_STATS_SK, consistent=False)
        return int(stats["base_size"]) if stats and stats.get("base_size") is not None else None


class TableTagCatalog:
    """Known tag names = the catalog's definitions (`CATALOG / TAGDEF#<name>`) plus every tag that
    has had members (`bought:<yyyy-mm>:<product>` tags are memberships, not catalogued one by one),
    cached per process for `ttl_seconds`.

    The latter are the list every membership writer keeps (`TAGNAMES / <name>`,
    tagging_memberships.note_tag_names), read with one Query. Until that list is known to be whole
    (`TAGNAMES / #COMPLETE`: a table with memberships from before the list) they are found by a scan
    of gsi1 for `TAG#` keys, which reads every membership; the first such scan completes the list.
    """

    def __init__(
        self,
        table: Table,
        *,
        discover_members: bool = True,
        ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.table = table
        self.discover_members = discover_members
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._cached: tuple[float, set[str]] | None = None

    def names(self) -> set[str]:
        if self._cached and self.clock() - self._cached[0] < self.ttl_seconds:
            return set(self._cached[1])
        names = {item["sk"].removeprefix("TAGDEF#") for item in self.table.query(CATALOG_PK, sk_prefix="TAGDEF#")}
        if self.discover_members:
            names |= self._member_tags()
        self._cached = (self.clock(), names)
        return set(names)

    def _member_tags(self) -> set[str]:
        listed = {str(item["sk"]) for item in self.table.query(TAG_NAMES_PK)}
        if TAG_NAMES_COMPLETE_SK in listed:
            return listed - {TAG_NAMES_COMPLETE_SK}
        found: set[str] = set()
        for item in self.table.scan(index="gsi1", filter=Attr("gsi1pk").begins_with("TAG#")):
            found.add(item["gsi1pk"].removeprefix("TAG#"))
        self.table.batch_put(tag_name_item(name) for name in sorted(found - listed))
        self.table.put({"pk": TAG_NAMES_PK, "sk": TAG_NAMES_COMPLETE_SK, "type": "tag_names_complete"})
        return found | listed

    def forget(self) -> None:
        self._cached = None

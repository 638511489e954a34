"""Segment previews on 100,000 generated customers and 30 tags, beside a naive full-table scan.

What is measured, in process on moto (bench.common.moto_stack):
- for a tag-only, a mixed and an attribute-only rule: the preview's wall time, the plan it chose,
  the items it read and the DynamoDB read units (RCU) those reads cost;
- the naive way: scan the whole table once, group items by customer and apply each rule;
- the tag catalog's refresh (a scan of the membership index, cached for 5 minutes), separately.

Read units: moto answers `ReturnConsumedCapacity` with a constant 1.0, so units are computed from the
items each response read, sized by moto's implementation of DynamoDB's item-size rules: Query/Scan
round the bytes of each response up to 4 KB, GetItem/BatchGetItem round each item up to 4 KB;
eventually consistent reads (all of the evaluator's) cost 0.5 per 4 KB, strongly consistent 1.

Bench-only moto settings (they change moto's speed, not what is read): DynamoDB requests are read and
responses written with json.loads/json.dumps instead of moto's generic (de)serializers (which spend
~3 ms per item); the loader's client skips botocore's parameter validation; the 400 KB
item-size check and the stream are off while loading; `all_items` is cached once loaded (moto re-sorts the whole table
for every query page otherwise); query/scan pages are 64 MB instead of 1 MB, so moto does not walk
the table once per megabyte. Units are still counted per 4 KB of what was read; with 1 MB pages
the rounding would add at most 0.5 RCU per MB (under 0.05%). The evaluator pages the same way in
either case (the tests prove paging on moto's 1 MB pages).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from bench.common import moto_stack, table_row
from engage.core.time import iso, parse_iso

NOW = parse_iso("2026-11-23T10:00:00Z")
CUSTOMERS = int(os.environ.get("BENCH_SEGMENT_CUSTOMERS", "100000"))  # smaller for a quick try
SEED = 2026
HISTORY = 4  # events per customer on average (messages, clicks, orders), as a real table holds them
TAGS: dict[str, float] = {  # share of customers holding each tag (independent draws)
    "interest:cosmetics": 0.20,
    "stage:purchased": 0.30,
    "product:lipstick": 0.33,
    "product:mascara": 0.10,
    "interest:skincare": 0.04,
    "interest:fragrance": 0.06,
    "interest:haircare": 0.05,
    "interest:price-sensitive": 0.12,
    "interest:trend-follower": 0.04,
    "stage:browsing": 0.25,
    "stage:cart": 0.06,
    "source:instagram": 0.15,
    "source:store": 0.10,
    "source:website": 0.20,
    "activity:high": 0.10,
    "activity:needs-attention": 0.07,
    "value:vip": 0.02,
    "value:quality-seeker": 0.03,
    "intent:high": 0.02,
    "intent:hesitant": 0.015,
    "cart:abandoned-repeat": 0.01,
    "power:premium": 0.05,
    "lifecycle:new": 0.05,
    "lifecycle:active": 0.20,
    "lifecycle:dormant": 0.15,
    "lifecycle:churned": 0.08,
    "rfm:vip": 0.05,
    "rfm:active": 0.25,
    "rfm:potential": 0.20,
    "rfm:dormant": 0.15,
}
RULES = {
    "tag-only": "interest:cosmetics AND stage:purchased AND NOT product:lipstick",
    "mixed": "interest:skincare AND stage:purchased AND last_order < 90d AND consent:marketing",
    "attribute-only": "last_interaction < 30d AND total_spent >= 100",
}
COUNTRIES = [("DE", "4915", "Europe/Berlin"), ("FR", "336", "Europe/Paris"), ("BR", "5511", "America/Sao_Paulo")]


# ---------------------------------------------------------------- data


def generate() -> Iterator[dict[str, Any]]:
    """Profiles (every field the predicates use), memberships and a short history, deterministic."""
    from engage.adapters.dynamo.customers import CustomerRepository
    from engage.adapters.dynamo.tagging_memberships import membership_item
    from engage.customers.profiles import Consent, Customer

    rng = random.Random(SEED)

    def ago(max_days: int) -> str:
        return iso(NOW - timedelta(days=rng.randint(0, max_days), seconds=rng.randint(0, 86_399)))

    for n in range(CUSTOMERS):
        cid = f"c_{n:032x}"
        country, prefix, zone = COUNTRIES[n % 3]
        orders = rng.choice([0, 0, 0, 1, 1, 2, 3, 5, 8])
        customer = Customer(
            id=cid,
            wa_id=f"{prefix}{n:09d}",
            user_id=f"{country}.{10**15 + n}",
            name=f"Customer {n}",
            consent=Consent(marketing=rng.random() < 0.7, updated_at=ago(700), source="import"),
            first_seen_at=ago(900),
            last_inbound_at=ago(200),
            last_interaction_at=ago(200),
            last_read_at=ago(200),
            country=country,
            timezone=zone,
            orders=orders,
            total_spent=round(orders * rng.uniform(20, 120), 2),
            first_order_at=ago(700) if orders else None,
            last_order_at=ago(300) if orders else None,
            attributes={"city": rng.choice(["Berlin", "Paris", "Recife", "Lyon"]), "language": "de"},
        )
        yield CustomerRepository.profile_item(customer)
        for tag, share in TAGS.items():
            if rng.random() < share:
                yield membership_item(cid, tag, since=ago(300), source="import", reason="bench")
        for k in range(rng.randint(0, HISTORY * 2)):
            yield history_event(cid, k, ago(200), rng)


def history_event(cid: str, k: int, at: str, rng: random.Random) -> dict[str, Any]:
    """A customer event as the webhook and the shop API write them (keys.event_sk)."""
    from engage.adapters.dynamo.keys import customer_pk, event_sk

    kind = rng.choice(["message", "message", "message", "link_clicked", "order_placed"])
    event_id = f"wamid.HBgM{cid[-12:]}{k:04d}" if kind == "message" else f"ev_{cid[-12:]}_{k}"
    data: dict[str, Any] = {"type": "text", "text": rng.choice(["Hi!", "Is this in stock?", "Thanks", "Rabatt?"])}
    if kind == "order_placed":
        data = {"order_id": f"o{k}", "total": round(rng.uniform(10, 150), 2), "items": ["lipstick"]}
    elif kind == "link_clicked":
        data = {"url": "https://shop.example/new-arrivals", "label": "new arrivals"}
    return {
        "pk": customer_pk(cid),
        "sk": event_sk(at, kind, event_id),
        "type": "event",
        "kind": kind,
        "event_id": event_id,
        "customer_id": cid,
        "occurred_at": at,
        "data": data,
    }


# ---------------------------------------------------------------- moto speed and read accounting


@contextmanager
def moto_speedups() -> Iterator[None]:
    """Bench-only moto settings (see the module docstring); everything is restored on exit."""
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models import table as moto_table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    def parse_json_body(self: Any, request: Any) -> None:
        body = getattr(request, "body", None) or getattr(request, "data", None) or b"{}"
        self.params = json.loads(body.decode() if isinstance(body, bytes) else body)

    original_parse = DynamoHandler.parse_parameters
    DynamoHandler.parse_parameters = parse_json_body  # type: ignore[method-assign,assignment]

    def plain_json(self: Any, context: Any) -> Any:
        try:
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)
        except TypeError:  # dates in table descriptions: moto's own serializer knows them
            return original_execute(self, context)

    original_execute = DynamoResult.execute_result
    DynamoResult.execute_result = plain_json  # type: ignore[method-assign,assignment]
    cls = moto_table.Table
    saved = (dynamo_type.LimitedSizeDict.__setitem__, cls.all_items, cls.put_item, cls.delete_item)
    page_limit = moto_table.RESULT_SIZE_LIMIT
    original_all, original_put, original_delete = saved[1], saved[2], saved[3]
    version = [0]
    cache: dict[int, tuple[int, list[Any]]] = {}

    def all_items(self: Any) -> list[Any]:
        if cache.get(id(self), (-1, []))[0] != version[0]:
            cache[id(self)] = (version[0], original_all(self))
        return cache[id(self)][1]

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        version[0] += 1
        return original_put(self, *args, **kwargs)

    def delete_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        version[0] += 1
        return original_delete(self, *args, **kwargs)

    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign,assignment]
    cls.all_items, cls.put_item, cls.delete_item = all_items, put_item, delete_item  # type: ignore[method-assign]
    moto_table.RESULT_SIZE_LIMIT = 64_000_000
    try:
        yield
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = saved[0]  # type: ignore[method-assign]
        cls.all_items, cls.put_item, cls.delete_item = saved[1], saved[2], saved[3]  # type: ignore[method-assign]
        moto_table.RESULT_SIZE_LIMIT = page_limit
        DynamoResult.execute_result = original_execute  # type: ignore[method-assign]
        DynamoHandler.parse_parameters = original_parse  # type: ignore[method-assign]


@contextmanager
def without_streams() -> Iterator[None]:
    """Nothing consumes the stream in the bench: skip recording 400,000 stream records while loading."""
    tables = _moto_tables()
    saved = {t.name: t.stream_shard for t in tables}
    for t in tables:
        t.stream_shard = None
    try:
        yield
    finally:
        for t in tables:
            t.stream_shard = saved[t.name]


def _moto_tables() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return list(dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables.values())


class ReadMeter:
    """Read units and items, from what each DynamoDB response returned (sized by moto)."""

    def __init__(self) -> None:
        self.sizes: dict[tuple[str, str], int] = {}
        self.rcu = 0.0
        self.items = 0

    def index_sizes(self) -> None:
        for backend_table in _moto_tables():
            for item in backend_table.all_items():
                self.sizes[(item.hash_key.value, item.range_key.value)] = item.size()

    def reset(self) -> tuple[float, int]:
        taken = (self.rcu, self.items)
        self.rcu, self.items = 0.0, 0
        return taken

    def before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = json.loads(params.get("body") or b"{}")  # the request as sent (DynamoDB JSON)
        if params.get("IndexName") == "gsi1" and "ProjectionExpression" in params:  # a tag's member ids
            values = list((params.get("ExpressionAttributeValues") or {}).values())
            context["bench_tag_sk"] = _plain(values[0]) if values else None
        consistent = bool(params.get("ConsistentRead"))
        for request in (params.get("RequestItems") or {}).values():
            consistent = consistent or bool(request.get("ConsistentRead"))
        context["bench_consistent"] = consistent

    def after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        unit = 1.0 if context.get("bench_consistent") else 0.5
        tag_sk = context.get("bench_tag_sk")
        if model.name in ("Query", "Scan"):
            items = parsed.get("Items", [])
            if tag_sk:  # projected to customer_id: the membership item is CUST#<id> / TAG#<name>
                items = [{"pk": "CUST#" + _plain(i["customer_id"]), "sk": tag_sk} for i in items]
            sizes = [self._size(i) for i in items]
            self.rcu += math.ceil(sum(sizes) / 4096) * unit
        elif model.name == "GetItem":
            sizes = [self._size(parsed["Item"])] if parsed.get("Item") else []
            self.rcu += max(1, math.ceil(sum(sizes) / 4096)) * unit
        elif model.name == "BatchGetItem":
            sizes = [self._size(i) for items in parsed.get("Responses", {}).values() for i in items]
            self.rcu += sum(max(1, math.ceil(s / 4096)) for s in sizes) * unit
        else:
            return
        self.items += len(sizes)

    def _size(self, item: dict[str, Any]) -> int:
        size = self.sizes.get((_plain(item["pk"]), _plain(item["sk"])))
        if size is None:
            raise AssertionError(f"read an item the bench did not write: {item}")
        return size


def _plain(value: Any) -> str:
    """A string attribute in the wire form ({"S": ...}) or already deserialised."""
    return value["S"] if isinstance(value, dict) else value


# ---------------------------------------------------------------- the naive way


class InMemoryReader:
    """The AudienceReader port over data already scanned (so the naive way reads nothing more)."""

    def __init__(self, profiles: dict[str, Any], tags: dict[str, set[str]]):
        self._profiles = profiles
        self._tags = tags

    def member_sets(self, tags: Any) -> dict[str, set[str]]:
        return {t: self._tags.get(t, set()) for t in tags}

    def profiles(self, ids: Any) -> Iterator[Any]:
        return (self._profiles[i] for i in ids if i in self._profiles)

    def every_profile(self) -> Iterator[Any]:
        return iter(self._profiles.values())

    def base_size(self) -> int | None:
        return None

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        raise NotImplementedError("the bench rules do not count orders in a window")


def naive_scan(table: Any) -> InMemoryReader:
    from engage.customers.profiles import Customer

    profiles: dict[str, Any] = {}
    tags: dict[str, set[str]] = defaultdict(set)
    for item in table.scan():
        if item.get("type") == "customer":
            profiles[item["id"]] = Customer.model_validate(item)
        elif item.get("type") == "tag":
            tags[item["name"]].add(item["customer_id"])
    return InMemoryReader(profiles, tags)


# ---------------------------------------------------------------- run


def run() -> None:
    with moto_stack() as (_, counter), moto_speedups():
        import boto3
        from botocore.config import Config

        from engage import wiring
        from engage.adapters.dynamo.segments_audience import DynamoAudienceReader, TableTagCatalog
        from engage.adapters.dynamo.table import Table
        from engage.segments.evaluator import evaluate
        from engage.segments.service import parse_rule, preview

        meter = ReadMeter()
        table = wiring.aws.table()
        started = time.perf_counter()
        loader = Table(boto3.resource("dynamodb", config=Config(parameter_validation=False)).Table(table.name))
        with without_streams():
            written = loader.batch_put(generate())
        load_s = time.perf_counter() - started
        table.put({"pk": "SEGMENTS", "sk": "STATS", "base_size": CUSTOMERS})  # what the nightly job keeps
        meter.index_sizes()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("before-call.dynamodb.*", meter.before)
        session.events.register("after-call.dynamodb.*", meter.after)
        wiring.reset()
        table = wiring.aws.table()
        total_bytes = sum(meter.sizes.values())
        history_bytes = sum(size for (_, sk), size in meter.sizes.items() if sk.startswith("EVT#"))
        print(
            f"base: {CUSTOMERS:,} customers, {len(TAGS)} tags, {written:,} items, {total_bytes / 1e6:,.1f} MB"
            f" ({history_bytes / 1e6:,.1f} MB of it customer history, {HISTORY} events per customer on average)"
        )
        print(f"load (batch_put on moto, bench settings): {load_s:,.1f} s")

        counter.reset()
        started = time.perf_counter()
        naive = naive_scan(table)
        scan_s = time.perf_counter() - started
        scan_rcu, scan_items = meter.reset()
        lean_rcu = math.ceil((total_bytes - history_bytes) / 4096) * 0.5
        print(f"naive full scan: {scan_items:,} items, {scan_rcu:,.0f} RCU, {scan_s:.1f} s on moto")
        print(f"(the same table without customer history would scan for {lean_rcu:,.0f} RCU)")

        catalog = TableTagCatalog(table, ttl_seconds=3600)  # warm for the previews below
        started = time.perf_counter()
        known = catalog.names()
        catalog_s = time.perf_counter() - started
        catalog_rcu, catalog_items = meter.reset()
        print(
            f"tag catalog refresh (the api caches it 300 s): {len(known)} names, {catalog_items:,} items, "
            f"{catalog_rcu:,.0f} RCU, {catalog_s:.1f} s; the previews below use it warm\n"
        )

        widths = (15, 15, 7, 9, 9, 9, 10, 9, 8, 9)
        header = ("rule", "plan", "count", "preview s", "items", "RCU", "naive RCU", "naive s", "RCU %", "no-hist %")
        print(table_row(*header, widths=widths))
        reader = DynamoAudienceReader(table)
        for name, rule in RULES.items():
            started = time.perf_counter()
            result = preview(rule, reader=reader, catalog=catalog, now=NOW)
            took = time.perf_counter() - started
            rcu, items = meter.reset()
            started = time.perf_counter()
            expected = evaluate(parse_rule(rule), naive, known, now=NOW).count
            naive_s = scan_s + time.perf_counter() - started
            assert result["count"] == expected, (name, result["count"], expected)
            ratio = 100 * rcu / scan_rcu
            row = (name, result["plan"]["strategy"], result["count"], took, items, int(rcu), int(scan_rcu), naive_s)
            print(table_row(*row, f"{ratio:.1f}%", f"{100 * rcu / lean_rcu:.1f}%", widths=widths))
        for name, rule in RULES.items():
            print(f"  {name}: {rule}")
        print(
            "\nRCU: eventually consistent, per 4 KB read (Query/Scan per response, GetItem/BatchGetItem per item);"
            " sizes from moto's item-size rules. Times are moto's, not DynamoDB's (moto filters a whole index"
            " in Python for every query)."
        )

"""Metrics: counter updates per second and AWS requests per counted event; the cost of reading reports.

Runs in process on moto. moto applies every transaction by deep-copying the table, so the
in-process rate is a floor that falls as the table grows; the request and write-unit figures
per counted event are what DynamoDB would see. The table is re-created without its stream (moto
keeps stream records inside the table, which every transaction would copy too).
"""

from __future__ import annotations

import contextlib
import io
import random
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, cast
from unittest.mock import patch

from bench.common import moto_stack, stopwatch, table_row

SENDS = 60  # on moto (its cost per transaction grows with the table)
STUB_SENDS = 2000  # with a stubbed client: our own code's cost per event
DAYS = 30
SEGMENTS = 5
KB4 = 4096
WIDTHS = (22, 8, 9, 10, 9, 10, 12, 10)


def row(*cells: Any) -> str:
    return table_row(*cells, widths=WIDTHS)


def recreate_without_stream(table_name: str) -> None:
    import boto3

    from engage import wiring

    client = boto3.client("dynamodb", region_name="eu-west-1")
    table = client.describe_table(TableName=table_name)["Table"]
    client.delete_table(TableName=table_name)
    client.create_table(
        TableName=table_name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
            for g in table["GlobalSecondaryIndexes"]
        ],
    )
    wiring.reset()


def stream_batches(sends: int, size: int = 100) -> list[dict[str, Any]]:
    """One shard's records (each send's changes in order, sends interleaved), in batches of `size`."""
    from tests.helpers.send_streams import lifecycle, stream_event, stream_record

    queues = [lifecycle(f"c_{i:05d}")[1:] for i in range(sends)]
    rng = random.Random(1)
    records = []
    while any(queues):
        old, new = rng.choice([q for q in queues if q]).pop(0)
        records.append(stream_record(old, new))
    return [stream_event(*records[i : i + size]) for i in range(0, len(records), size)]


class ActionCounter:
    """Counts the items written by TransactWriteItems (each costs 2 WCU per KB in a transaction)."""

    def __init__(self) -> None:
        self.items = 0

    def __call__(self, params: dict[str, Any] | None = None, **_: Any) -> None:
        self.items += len((params or {}).get("TransactItems", []))


def process(batches: list[dict[str, Any]], lambda_context: Any) -> None:
    from functions.metrics import app

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():  # the EMF lines
        warnings.simplefilter("ignore")
        for event in batches:
            result = app.lambda_handler(event, lambda_context)
            assert result["batchItemFailures"] == [], result


class StubClient:
    """DynamoDB as a latency: every call waits what DynamoDB takes (modelled), and is accepted;
    the transactions' items are kept by key so the busiest item can be found."""

    def __init__(self, transact_ms: float = 0.0, get_ms: float = 0.0) -> None:
        self.calls = 0
        self.transact_ms, self.get_ms = transact_ms, get_ms
        self.writes: Counter[tuple[str, str]] = Counter()
        self.positions: dict[str, int] = {}

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        for action in TransactItems:
            key = action["Update"]["Key"]
            self.writes[(key["pk"], key["sk"])] += 1
            values = action["Update"].get("ExpressionAttributeValues", {})
            if key["pk"].startswith("CNTPOS#"):
                self.positions[key["pk"]] = max(int(v) for k, v in values.items() if isinstance(v, int))
        if self.transact_ms:
            time.sleep(self.transact_ms / 1000)
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}


def stub_repository(stub: StubClient) -> Any:
    from engage.adapters.dynamo.metrics_counters import CounterRepository
    from engage.adapters.dynamo.table import Table

    class StubTable:
        name = "stub"
        client = stub

        def update(self, *args: Any, **kwargs: Any) -> bool:
            return True

        def get(self, pk: str, sk: str, **_: Any) -> dict[str, Any] | None:
            if stub.get_ms:
                time.sleep(stub.get_ms / 1000)
            return {"position": stub.positions[pk]} if pk in stub.positions else None

    return CounterRepository(cast(Table, StubTable()))  # duck-typed: `name`, `client`, `get`, `update`


def run_counting(lambda_context: Any, counter: Any) -> None:
    import boto3

    actions = ActionCounter()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.dynamodb.TransactWriteItems", actions)  # type: ignore[union-attr]
    batches = stream_batches(SENDS)
    events = SENDS * 3
    print(f"counting: {SENDS} sends x (sent, delivered, read) = {events} events, one shard, 100 records a batch")
    print(row("pass", "events", "seconds", "events/s", "requests", "req/event", "items/event", "WCU/event"))
    for name in ("moto: first delivery", "moto: full replay"):
        counter.reset()
        actions.items = 0
        with stopwatch() as clock:
            process(batches, lambda_context)
        requests = counter.total("dynamodb")
        cells = (events, clock["seconds"], events / clock["seconds"], requests, requests / events)
        print(row(name, *cells, actions.items / events, 2 * actions.items / events))
    print("(a replay reads the shard's position and writes nothing)")
    run_stubbed(lambda_context)


def run_stubbed(lambda_context: Any) -> None:
    """Records/s through the handler with DynamoDB modelled as latency (GetItem 4 ms, a transaction
    15 ms), in the template's batch size (1,000)."""
    from engage import wiring

    for label, transact_ms, get_ms in (("stub: own code only", 0.0, 0.0), ("stub: modelled DynamoDB", 15.0, 4.0)):
        stub = StubClient(transact_ms, get_ms)
        with patch.object(wiring.metrics, "counters", lambda stub=stub: stub_repository(stub)):
            batches = stream_batches(STUB_SENDS, size=1000)
            records = sum(len(b["Records"]) for b in batches)
            with stopwatch() as clock:
                process(batches, lambda_context)
        events = STUB_SENDS * 3
        print(
            row(label, events, clock["seconds"], events / clock["seconds"], stub.calls, stub.calls / events)
            + f"   {records / clock['seconds']:,.0f} records/s per shard"
        )


def busiest_item(rate: float = 1000, seconds: int = 10, shards: int = 8, window: float = 2.0) -> None:
    """The busiest item's writes/s at `rate` msg/s: the stream split over `shards` shards (by
    customer, as DynamoDB partitions the table), each shard one batch per batching window (or per
    1,000 records), through the real adapter with a recording client. Per message: the sender's
    intent and outcome, ~2.9 statuses (sent, delivered, read at 70%) = ~4.9 records."""
    import zlib

    from engage.metrics.counters import StreamChange, count_batch, stream_change
    from tests.helpers.send_streams import lifecycle

    stub = StubClient()
    store = stub_repository(stub)
    lanes: dict[int, list[StreamChange]] = {s: [] for s in range(shards)}
    sequence = 0
    now = date(2026, 11, 23)
    from engage.core.time import parse_iso

    at = parse_iso(f"{now.isoformat()}T10:00:00Z")
    total_records = 0
    for second in range(seconds):
        for n in range(int(rate)):
            customer = f"c_{second:03d}_{n:05d}"
            steps = lifecycle(customer, "cmp_big", variant="AB"[n % 2])
            if n % 10 >= 7:  # 30% not read
                steps = steps[:3]
            shard = zlib.crc32(customer.encode()) % shards
            for old, new in steps:
                sequence += 1
                lanes[shard].append(stream_change(str(sequence), old, new, None))
                total_records += 1
        if (second + 1) % window == 0 or second == seconds - 1:
            for shard, records in lanes.items():
                for i in range(0, len(records), 1000):
                    count_batch(store, f"shardId-{shard}", records[i : i + 1000], at)
                records.clear()
    (pk, sk), most = stub.writes.most_common(1)[0]
    print(
        f"\nat {rate:,.0f} msg/s ({total_records / seconds:,.0f} stream records/s over {shards} shards, "
        f"batching window {window:.0f} s, batches of up to 1,000): {stub.calls / seconds:,.1f} transactions/s "
        f"in all; busiest item {pk} / {sk}: {most / seconds:.2f} writes/s (DynamoDB's per-item limit: 1,000 WCU/s)"
    )


def seed_daily() -> None:
    """30 days x 5 segments on every shard, written as the counters leave them (batch puts: fast on moto)."""
    from engage import wiring
    from engage.adapters.dynamo.keys import counter_pk
    from engage.adapters.dynamo.metrics_counters import DAY_SCOPE, campaign_scope

    store = wiring.metrics.counters()
    counts = {"sent": 50, "delivered": 49, "read": 30, "replied": 8, "clicked": 6, "clicks": 9, "opted_out": 1}
    counts.update({"failed": 1, "failed:131026": 1})
    items = []
    start = date(2026, 9, 1)
    for day_index in range(DAYS):
        day = (start + timedelta(days=day_index)).isoformat()
        for segment in range(SEGMENTS):
            variant = "AB"[segment % 2]
            for shard in range(store.shards):
                common = {"type": "counter", "day": day, **counts}
                items.append(
                    {"pk": counter_pk(DAY_SCOPE, shard), "sk": f"{day}#seg_{segment}", "segment_id": f"seg_{segment}",
                     **common}
                )  # fmt: skip
                items.append(
                    {"pk": counter_pk(campaign_scope(f"cmp_{segment}"), shard), "sk": f"{day}#{variant}",
                     "variant": variant, "campaign_id": f"cmp_{segment}", **common}
                )  # fmt: skip
    wiring.aws.table().batch_put(items)


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size, approximately: attribute names plus values (numbers as digits)."""
    return sum(len(k) + len(str(v)) + 1 for k, v in item.items())


def read_cost(label: str, counter: Any, read: Callable[[], tuple[list, dict]]) -> dict:
    counter.reset()
    with stopwatch() as clock:
        rows, out = read()
    requests = counter.total("dynamodb")
    size = sum(item_bytes(r) for r in rows)
    # eventually consistent query: 0.5 RCU per 4 KB read, rounded up per request (here per shard query)
    per_query = max(1, requests)
    rcu = per_query * 0.5 * max(1, -(-size // per_query // KB4))
    print(row(label, requests, len(rows), size, rcu, clock["seconds"] * 1000))
    return out


def run_reading(counter: Any) -> None:
    from engage import wiring
    from engage.metrics.funnel import MetricsConfig, campaign_metrics, daily_metrics

    seed_daily()
    store = wiring.metrics.counters()
    config = MetricsConfig()
    print(f"\nreading: {DAYS} days x {SEGMENTS} segments, {store.shards} shards per counter")
    print(row("report", "requests", "items", "bytes", "RCU", "ms"))
    first, last = date(2026, 9, 1), date(2026, 9, 1) + timedelta(days=DAYS - 1)

    def daily() -> tuple[list, dict]:
        rows = store.daily_rows(first.isoformat(), last.isoformat())
        return rows, daily_metrics(rows, first, last, config)

    def campaign() -> tuple[list, dict]:
        rows = store.campaign_rows("cmp_0")
        return rows, campaign_metrics("cmp_0", rows, config)

    out = read_cost("30-day daily", counter, daily)
    read_cost("campaign (30 d)", counter, campaign)
    assert out["totals"]["sent"] == 50 * DAYS * SEGMENTS * store.shards


def run() -> None:
    from tests.conftest import FakeLambdaContext

    with moto_stack() as (resources, counter):
        recreate_without_stream(resources.table_name)
        run_counting(FakeLambdaContext(), counter)
        busiest_item()
        run_reading(counter)

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
import warnings
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


def stream_batches(sends: int) -> list[dict[str, Any]]:
    from tests.helpers.send_streams import lifecycle, stream_event, stream_record

    records = [stream_record(old, new) for i in range(sends) for old, new in lifecycle(f"c_{i:05d}")[1:]]
    random.Random(1).shuffle(records)
    return [stream_event(*records[i : i + 100]) for i in range(0, len(records), 100)]


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
            assert result == {"batchItemFailures": []}, result


class StubClient:
    """Accepts every transaction at once: what is left is our own code (parsing, building, bookkeeping)."""

    def __init__(self) -> None:
        self.calls = 0

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}


def run_counting(lambda_context: Any, counter: Any) -> None:
    import boto3

    actions = ActionCounter()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.dynamodb.TransactWriteItems", actions)  # type: ignore[union-attr]
    batches = stream_batches(SENDS)
    events = SENDS * 3
    print(f"counting: {SENDS} sends x (sent, delivered, read) = {events} events, shuffled, 100 records a batch")
    print(row("pass", "events", "seconds", "events/s", "requests", "req/event", "items/event", "WCU/event"))
    for name in ("moto: first delivery", "moto: full replay"):
        counter.reset()
        actions.items = 0
        with stopwatch() as clock:
            process(batches, lambda_context)
        requests = counter.total("dynamodb")
        cells = (events, clock["seconds"], events / clock["seconds"], requests, requests / events)
        print(row(name, *cells, actions.items / events, 2 * actions.items / events))
    print("(a replay writes nothing: its transactions are cancelled by the markers, which still costs WCU)")
    run_stubbed(lambda_context)


def run_stubbed(lambda_context: Any) -> None:
    from engage import wiring
    from engage.adapters.dynamo.metrics_counters import CounterRepository
    from engage.adapters.dynamo.table import Table

    stub = StubClient()

    class StubTable:
        name = "stub"
        client = stub

        def update(self, *args: Any, **kwargs: Any) -> bool:
            return True

    def stubbed() -> CounterRepository:  # a new one per record, as wiring.metrics.counters builds them
        return CounterRepository(cast(Table, StubTable()))  # duck-typed: only `name`, `client` and `update`

    with patch.object(wiring.metrics, "counters", stubbed):
        batches = stream_batches(STUB_SENDS)
        with stopwatch() as clock:
            process(batches, lambda_context)
    events = STUB_SENDS * 3
    print(row("stub: own code only", events, clock["seconds"], events / clock["seconds"], stub.calls, 1.0))


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
        run_reading(counter)

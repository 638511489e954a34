"""Journey benchmarks: AWS requests and $ per 1,000,000 journey steps, and what the timers cost.

(a) On moto with the real adapters: 60 customers enter two default journeys (`abandoned-cart`:
    wait for an order with a timeout, branch, coupon, send, goal; `onboarding`: branch, send, wait,
    send, wait, send, exit) through the tagger's journey processor and the minute sweep. Every AWS
    call is counted by operation (botocore's before-call hook); DynamoDB units are counted from the
    requests themselves (a transaction item costs 2 WRU, a run write also writes the due index).
(b) The timer mechanism, per 1,000,000 runs waiting for a day: the sharded due index swept every
    minute (what Engage uses), against EventBridge Scheduler one-time schedules and SQS delays,
    from list prices and quotas.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import moto_stack, table_row

# us-east-1 list prices (2026)
WRU = 0.625 / 1e6  # DynamoDB on-demand, per write request unit
RRU = 0.125 / 1e6  # per read request unit (strongly consistent 4 KB = 1, eventually = 0.5)
SQS_REQUEST = 0.40 / 1e6
LAMBDA_GB_S = 0.0000133334  # arm64
LAMBDA_REQUEST = 0.20 / 1e6
SCHEDULER_INVOCATION = 1.00 / 1e6  # EventBridge Scheduler, after 14M free a month
STORAGE_GB_MONTH = 0.25
RUN_ITEM_KB = 1.0  # a run item (with its due-index copy, projected ALL) is under 1 KB
SWEEP_MEMORY_GB = 1.0  # the scheduler function
SHARDS = 16

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PEOPLE = 60


class UnitCounter:
    """DynamoDB capacity units and request counts, read from the request parameters."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.wru = 0.0
        self.rru = 0.0

    def __call__(self, model: Any = None, params: Any = None, **_: Any) -> None:
        """Hooked on `before-parameter-build`: `params` are the operation's own parameters."""
        if model is None:
            return
        name = f"{model.service_model.service_name}.{model.name}"
        self.calls[name] += 1
        params = params or {}
        if model.name == "TransactWriteItems":
            items = params.get("TransactItems", [])
            self.wru += 2 * len(items) + sum(1 for i in items if "Put" in i and "gsi2pk" in i["Put"]["Item"])
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.wru += 1 + (1 if "gsi2pk" in (params.get("Item") or {}) else 0)
        elif model.name == "BatchWriteItem":
            self.wru += sum(len(v) for v in params.get("RequestItems", {}).values())
        elif model.name == "GetItem":
            self.rru += 1 if params.get("ConsistentRead") else 0.5
        elif model.name == "Query":
            self.rru += 1 if params.get("ConsistentRead") else 0.5
        elif model.name == "BatchGetItem":
            self.rru += sum(len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values()) * 0.5

    def total(self, service: str) -> int:
        return sum(n for k, n in self.calls.items() if k.startswith(service + "."))


def drive_journeys() -> dict[str, Any]:
    from engage import wiring
    from engage.core.time import iso, set_clock
    from engage.customers.profiles import Consent, Customer
    from engage.journeys import service
    from functions.scheduler import app as scheduler
    from tests.helpers.streams import history_item

    class Context:
        function_name = "bench"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
        aws_request_id = "bench"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 900_000

    with moto_stack() as (_, _counter):
        import boto3

        units = UnitCounter()
        boto3.DEFAULT_SESSION.events.register("before-parameter-build.*.*", units)  # type: ignore[union-attr]
        ctx = Context()
        scheduler.lambda_handler({"schedule": "journey-sweep", "now": iso(T0)}, ctx)
        ports = wiring.journeys.ports()
        for jid in ("abandoned-cart", "onboarding"):
            service.set_enabled(ports, jid, True, T0)
        repo = wiring.customers.repository()
        ids = [f"c_{i:032x}" for i in range(PEOPLE)]
        for n, cid in enumerate(ids):
            consent = Consent(marketing=True, updated_at=iso(T0 - timedelta(days=2)))
            repo.create(
                Customer(id=cid, wa_id=f"4915100{n:05d}", country="DE", timezone="Europe/Berlin", consent=consent)
            )
        moves = {"n": 0}
        real_advance, real_enter = ports.runs.advance, ports.runs.enter

        def advance(run: Any, **write: Any) -> bool:
            ok = real_advance(run, **write)
            moves["n"] += ok
            return ok

        def enter(run: Any, *, reentry_before: str | None) -> bool:
            ok = real_enter(run, reentry_before=reentry_before)
            moves["n"] += ok
            return ok

        ports.runs.advance = advance  # type: ignore[method-assign]
        ports.runs.enter = enter  # type: ignore[method-assign]
        units.calls.clear()
        units.wru = units.rru = 0
        started = time.perf_counter()
        set_clock(T0)
        items = []
        for n, cid in enumerate(ids):
            items.append(history_item(cid, "cart_abandoned", f"cart-{n}", iso(T0)))
            if n % 2 == 0:
                items.append(history_item(cid, "order_placed", f"order-{n}", iso(T0), total=30.0))
        table = wiring.aws.table()
        for item in items:
            table.put(item)
        put_calls = dict(units.calls)
        put_wru = units.wru
        for item in items:  # the tagger's journey processor, without the tagger's own rules
            service.on_history_item(ports, item, T0)
        minutes = 0
        at = T0
        while at < T0 + timedelta(days=4):
            at += timedelta(hours=1)  # the sweep runs every minute; hourly steps wake the same runs
            set_clock(at)
            scheduler.lambda_handler({"schedule": "journey-sweep", "now": iso(at)}, ctx)
            minutes += 1
        set_clock(None)
        seconds = time.perf_counter() - started
        calls = Counter({k: v - put_calls.get(k, 0) for k, v in units.calls.items()})
        stats = {jid: service.stats(ports, jid) for jid in ("abandoned-cart", "onboarding")}
        return {
            "steps": moves["n"],
            "calls": calls,
            "wru": units.wru - put_wru,
            "rru": units.rru,
            "sweeps": minutes,
            "seconds": seconds,
            "stats": stats,
        }


def compute_per_step() -> float:
    """Seconds of our own code per journey step: the same journeys on the in-memory fakes."""
    from engage.core.time import iso
    from engage.customers.profiles import Consent, Customer
    from engage.journeys import service
    from tests.fakes.journeys import JourneyWorld

    w = JourneyWorld()
    service.install_defaults(w.ports, T0)
    for jid in ("abandoned-cart", "onboarding"):
        service.set_enabled(w.ports, jid, True, T0)
    consent = Consent(marketing=True, updated_at=iso(T0 - timedelta(days=2)))
    for n in range(2000):
        w.customers.add(Customer(id=f"c_{n}", country="DE", timezone="Europe/Berlin", consent=consent))
    started = time.perf_counter()
    for n in range(2000):
        item = {
            "customer_id": f"c_{n}",
            "kind": "cart_abandoned",
            "event_id": f"k{n}",
            "occurred_at": iso(T0),
            "data": {},
        }
        service.on_history_item(w.ports, item, T0)
    for hours in range(1, 100, 6):
        service.sweep(w.ports, T0 + timedelta(hours=hours))
    seconds = time.perf_counter() - started
    return seconds / max(1, w.runs.writes)


def timer_costs(waiting: int = 1_000_000) -> dict[str, dict[str, float]]:
    """$ per day for `waiting` runs that each wait one day, by mechanism (wake-up included)."""
    sweeps = 1440
    due_index = {
        "storage": waiting * RUN_ITEM_KB * 2 / 1e6 * STORAGE_GB_MONTH / 30,  # item + index copy
        "sweep queries": sweeps * SHARDS * 0.5 * RRU + waiting / 200 * 0.5 * RRU,  # empty polls + pages read
        "sweep lambda": sweeps * (LAMBDA_REQUEST + 0.2 * SWEEP_MEMORY_GB * LAMBDA_GB_S),
    }
    scheduler = {
        "invocations": waiting * SCHEDULER_INVOCATION,
        "lambda requests": waiting * LAMBDA_REQUEST,  # one target invocation per schedule
        "storage": waiting * RUN_ITEM_KB / 1e6 * STORAGE_GB_MONTH / 30,
    }
    hops = 86400 // 900  # SQS delays are at most 15 minutes: a day's wait is re-queued 96 times
    sqs = {
        "requests": waiting * hops * 3 / 10 * SQS_REQUEST,  # send, receive, delete, in batches of 10
        "lambda": waiting * hops / 10 * (LAMBDA_REQUEST + 0.05 * 0.5 * LAMBDA_GB_S),
    }
    return {"due index (chosen)": due_index, "EventBridge Scheduler at()": scheduler, "SQS delays": sqs}


def run() -> None:
    result = drive_journeys()
    steps = result["steps"]
    calls: Counter[str] = result["calls"]
    print(f"(a) {PEOPLE} customers, abandoned-cart + onboarding, moto, {result['sweeps']} sweeps")
    print(f"    journey steps (run moves) {steps:,}; wall {result['seconds']:.1f} s on moto")
    for jid, s in result["stats"].items():
        print(f"    {jid}: entered {s['entered']}, sent {s['sent']}, converted {s['converted']}, exited {s['exited']}")
    print("    AWS requests per journey step, by operation:")
    for name, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        if n:
            print("      " + table_row(name, round(n / steps, 3), widths=(40, 10)))
    per_step_dynamo = sum(n for k, n in calls.items() if k.startswith("dynamodb.")) / steps
    per_step_sqs = sum(n for k, n in calls.items() if k.startswith("sqs.")) / steps
    wru, rru = result["wru"] / steps, result["rru"] / steps
    lambda_s = compute_per_step()
    cost = {
        "DynamoDB writes": wru * WRU * 1e6,
        "DynamoDB reads": rru * RRU * 1e6,
        "SQS": per_step_sqs * SQS_REQUEST * 1e6,
        "Lambda": lambda_s * 1.0 * LAMBDA_GB_S * 1e6,
    }
    print(f"    our code per step: {lambda_s * 1000:.2f} ms (in-memory fakes), billed at 1 GB")
    print(
        f"    per step: {per_step_dynamo:.2f} DynamoDB requests ({wru:.2f} WRU, {rru:.2f} RRU), {per_step_sqs:.2f} SQS"
    )
    print(
        "    $ per 1,000,000 journey steps: "
        + ", ".join(f"{k} ${v:,.2f}" for k, v in cost.items())
        + f", total ${sum(cost.values()):,.2f}"
    )
    print("(b) timers: $ per 1,000,000 runs waiting one day (storage, polling, wake-ups)")
    for mechanism, parts in timer_costs().items():
        detail = ", ".join(f"{k} ${v:,.3f}" for k, v in parts.items())
        print(f"    {mechanism}: ${sum(parts.values()):,.3f}/day ({detail})")
    print(
        "    prices: DynamoDB $0.625/1M WRU, $0.125/1M RRU, $0.25/GB-month; SQS $0.40/1M; Lambda arm64 "
        "$0.0000133334/GB-s + $0.20/1M; Scheduler $1.00/1M invocations"
    )

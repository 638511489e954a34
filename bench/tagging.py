"""Tagging benchmarks, in process on moto.

1. Tagger throughput: a realistic mix of history items (messages with and without keywords, clicks,
   carts, views, orders) fed to the tagger handler as DynamoDB stream batches of 100.
   Figures: events per second and AWS requests per event (by operation).
2. Nightly lifecycle pass: N customer profiles, then the lifecycle-pass schedule and every page it fans
   out (16 sweep+stats pages, the cut points, 16+ scoring pages), run one after another in process.
   Figures: wall time, pages, AWS requests, and the time per 10,000 customers.

moto is far slower per request than DynamoDB (and a single process runs the pages one by one), so
read the figures as an upper bound of work per event/customer, not as AWS latency.
Environment: BENCH_TAGGER_EVENTS (default 1000), BENCH_PASS_CUSTOMERS (default 2000; the per-10,000
figure is scaled from it, since every page's work is linear in its customers).
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from typing import Any

from bench.common import moto_stack, stopwatch, table_row
from tests.conftest import FakeLambdaContext


def history_mix(n_events: int, n_customers: int, start: Any) -> list[dict[str, Any]]:
    from tests.helpers.streams import history_item

    rng = random.Random(7)
    texts = ["Hi!", "Is there a discount?", "Wie viel kostet das?", "спасибо", "¿Tienen cupón?", "ok thanks", "Size M?"]
    items: list[dict[str, Any]] = []
    for i in range(n_events):
        cid = f"c_{rng.randrange(n_customers):032x}"
        at = (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        roll = rng.random()
        if roll < 0.45:
            items.append(history_item(cid, "message", f"wamid.{i}", at, type="text", text=rng.choice(texts)))
        elif roll < 0.65:
            label = rng.choice(["New arrivals", "Shop now", "Silk scarf"])
            items.append(
                history_item(cid, "link_clicked", f"clk{i}", at, url="https://s", label=label, product="scarf")
            )
        elif roll < 0.8:
            items.append(
                history_item(cid, "product_viewed", f"v{i}", at, product="p1", category=rng.choice(["shoes", "bags"]))
            )
        elif roll < 0.9:
            items.append(history_item(cid, "cart_abandoned", f"cart{i}", at, cart_id=str(i)))
        else:
            order = {"product": "Silk scarf", "category": "accessories", "price": 40, "quantity": 1}
            items.append(history_item(cid, "order_placed", f"o{i}", at, order_id=str(i), items=[order], total=40,
                                      currency="EUR"))  # fmt: skip
    return items


def bench_tagger() -> None:
    n_events = int(os.environ.get("BENCH_TAGGER_EVENTS", "1000"))
    with moto_stack() as (_, counter):
        from engage import wiring
        from engage.core.time import parse_iso
        from engage.customers.profiles import Customer
        from functions.tagger import app
        from tests.helpers.streams import stream_event

        n_customers = max(1, n_events // 10)
        wiring.aws.table().batch_put(
            wiring.customers.repository().profile_item(Customer(id=f"c_{n:032x}", first_seen_at="2026-11-01T00:00:00Z"))
            for n in range(n_customers)
        )
        items = history_mix(n_events, n_customers, parse_iso("2026-11-20T00:00:00Z"))
        wiring.aws.table().batch_put(items)
        context = FakeLambdaContext()
        app.lambda_handler(stream_event(items[:1]), context)  # cold start: imports, defaults installed
        counter.reset()
        with stopwatch() as watch:
            for start in range(0, len(items), 100):
                result = app.lambda_handler(stream_event(items[start : start + 100]), context)
                assert not result["batchItemFailures"], result
        seconds, requests, calls = watch["seconds"], counter.total(), counter.calls.most_common()
        changes = sum(1 for _ in wiring.aws.table().scan() if str(_.get("sk", "")).startswith("TAGLOG#"))
        print("tagger (DynamoDB stream batches of 100, in process on moto)")
        print(table_row("events", "seconds", "events/s", "AWS req", "req/event", widths=(22,)))
        print(table_row(len(items), seconds, len(items) / seconds, requests, requests / len(items),
                        widths=(22,)))  # fmt: skip
        print(f"  customer tag changes written: {changes} ({changes / len(items):.2f} per event)")
        for op, n in calls:
            print(f"  {op:32s} {n:7d}  {n / len(items):.3f}/event")
        engine_only(items)


def engine_only(items: list[dict[str, Any]]) -> None:
    """The rules engine alone (no I/O): each event evaluated against its customer's 30-day history."""
    from engage.tagging.rules import Context, Event, default_rules, evaluate

    rules = default_rules()
    events = [Event.from_item(i) for i in items]
    history: dict[str, list[Event]] = {}
    with stopwatch() as watch:
        fired = 0
        for event in events:
            past = history.setdefault(event.customer_id, [])
            past.append(event)
            ctx = Context(event=event, history=past[-200:], profile={"orders": 3, "coupon_orders": 1})
            fired += len(evaluate(rules, ctx))
    print(f"  rules engine alone ({len(rules)} default rules, no I/O): {len(events) / watch['seconds']:,.0f} events/s, "
          f"{fired} changes decided")  # fmt: skip


def bench_pass() -> None:
    n = int(os.environ.get("BENCH_PASS_CUSTOMERS", "2000"))
    rng = random.Random(11)
    with moto_stack() as (_, counter):
        from engage import wiring
        from engage.core.time import iso, parse_iso
        from engage.customers.profiles import Customer
        from functions.scheduler import app

        now = parse_iso("2026-11-24T02:00:00Z")

        profiles = []
        for i in range(n):
            orders = rng.choice([0, 0, 1, 1, 2, 3, 5, 8])
            last = now - timedelta(days=rng.uniform(0, 400))
            fields: dict[str, Any] = {"last_interaction_at": iso(last), "first_seen_at": iso(last - timedelta(days=30))}
            if orders:
                fields.update(orders=orders, total_spent=round(rng.uniform(10, 80) * orders, 2),
                              first_order_at=iso(last - timedelta(days=rng.uniform(0, 200))), last_order_at=iso(last),
                              order_times=[iso(last - timedelta(days=7 * k)) for k in range(orders)])  # fmt: skip
            profiles.append(wiring.customers.repository().profile_item(Customer(id=f"c_{i:032x}", **fields)))
        wiring.aws.table().batch_put(profiles)
        context = FakeLambdaContext()
        app.lambda_handler({"schedule": "tag-health", "now": iso(now)}, context)  # cold start + defaults
        print("\nnightly lifecycle pass (schedule + every PassQueue page, one after another in process on moto)")
        print(
            table_row("night", "customers", "pages run", "seconds", "s/10k cust", "AWS req", "req/cust", widths=(22,))
        )
        night(app, counter, context, n, now, "first (all new)")
        night(app, counter, context, n, now + timedelta(days=1), "next (steady)")
        from engage.tagging.lifecycle import PAGE_SIZE, SHARDS

        print(f"  page size {PAGE_SIZE:,} customers; the schedule fans out {SHARDS} shard pages (expiry sweep + R/F/M "
              f"sketch), the last one stores the cut points and queues {SHARDS} scoring pages; big shards continue "
              "with a cursor")  # fmt: skip
        print(f"  s/10k cust is scaled from {n:,} customers; the 16 shard pages run in parallel in AWS")


def night(app: Any, counter: Any, context: Any, n: int, now: Any, label: str) -> None:
    from engage.core.time import iso
    from tests.helpers.queues import drain_pass_queue

    counter.reset()
    with stopwatch() as watch:
        app.lambda_handler({"schedule": "lifecycle-pass", "now": iso(now)}, context)
        pages = drain_pass_queue(context)
    seconds, requests = watch["seconds"], counter.total()
    print(table_row(label, n, pages, seconds, seconds * 10_000 / n, requests, requests / n,
                    widths=(22,)))  # fmt: skip
    top = ", ".join(f"{op} {count / n:.2f}" for op, count in counter.calls.most_common(4))
    print(f"  requests per customer: {top}")


def run() -> None:
    bench_tagger()
    bench_pass()

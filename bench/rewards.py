"""Coupon codes issued from one pool by 20 concurrent issuers, and DynamoDB requests per issued and
per redeemed code. Through moto (the template's table) with the real repository and use cases.

moto applies a transaction by copying the table and is not isolated between threads, so DynamoDB
calls are serialised here (as in the tests' `serialized_dynamodb`); the issuers still interleave
between calls, which is what the conditional writes must survive. The rate is therefore the code
path's on one moto process, not DynamoDB's (which takes ~1,000 writes/s per partition: the pool's
counter item is the bound there, see docs/rewards.md).

    python -m bench rewards
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import moto_stack

ISSUERS = 20
CUSTOMERS = 500
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def serialise(counter_events: Any) -> None:
    lock = threading.RLock()

    def acquire(**_: Any) -> None:  # a handler that returns a value would replace the response
        lock.acquire()

    def release(**_: Any) -> None:
        lock.release()

    counter_events.register("before-call.dynamodb", acquire)
    counter_events.register("after-call.dynamodb", release)


def run() -> None:
    import boto3

    from engage import wiring
    from engage.rewards import coupons
    from engage.rewards.coupons import PoolIn

    with moto_stack() as (_, counter):
        store = wiring.rewards.coupons()
        serialise(store.table.client.meta.events)
        pool = coupons.create_pool(
            store, PoolIn(name="bench", prefix="BENCH", discount="10%", valid_hours=72), "p1", T0
        )
        customers = [f"c_{n:06d}" for n in range(CUSTOMERS)]
        # Every customer asked for by two issuers (the second finds the claim): 2,000 calls for 1,000 codes.
        asks = customers + customers[::-1]
        codes: list[str | None] = [None] * len(asks)

        def ask(i: int) -> None:
            codes[i] = coupons.issue(store, pool.id, asks[i], "campaign:bench", T0).code

        counter.reset()
        start = time.perf_counter()
        with ThreadPoolExecutor(ISSUERS) as workers:
            list(workers.map(ask, range(len(asks))))
        seconds = time.perf_counter() - start
        issued_calls = counter.total("dynamodb")
        by_customer: dict[str, set[str | None]] = {}
        for customer, code in zip(asks, codes, strict=True):
            by_customer.setdefault(customer, set()).add(code)
        distinct = {c for c in codes if c}
        assert all(len(v) == 1 for v in by_customer.values()), "a customer got two codes"
        assert len(distinct) == CUSTOMERS, "a code went to two customers"
        assert store.pool(pool.id).issued == CUSTOMERS  # type: ignore[union-attr]

        # Fresh issues only: one issuer, new customers, to count requests per new code.
        counter.reset()
        single = time.perf_counter()
        for n in range(100):
            coupons.issue(store, pool.id, f"fresh_{n}", "campaign:bench", T0)
        single_rate = 100 / (time.perf_counter() - single)
        per_new = counter.total("dynamodb") / 100
        counter.reset()
        for n in range(100):
            coupons.issue(store, pool.id, f"fresh_{n}", "campaign:bench", T0)
        per_repeat = counter.total("dynamodb") / 100

        counter.reset()
        redeemed = 0
        for n, customer in enumerate(customers[:200]):
            code = next(iter(by_customer[customer]))
            item = {
                "customer_id": customer,
                "kind": "order_placed",
                "event_id": f"ord-{n}",
                "occurred_at": (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                "data": {"order_id": f"ord-{n}", "total": 42.0, "coupon": code},
            }
            redeemed += coupons.redeem_order(store, item) == "redeemed"
        per_redeemed = counter.total("dynamodb") / redeemed
        calls = dict(counter.calls)

        counter.reset()
        coupons.redeem_order(store, item)  # the stream hands the last order again
        per_replay = counter.total("dynamodb")

    del boto3
    print(f"issuers (threads)                      {ISSUERS}")
    print(f"issue calls / distinct codes           {len(asks)} / {len(distinct)} (every customer asked twice)")
    print(f"codes issued per second (moto)         {CUSTOMERS / seconds:,.0f}")
    print(f"issue calls per second (moto)          {len(asks) / seconds:,.0f}")
    print(f"codes issued per second, one issuer    {single_rate:,.0f}  (one thread, same moto)")
    print(f"DynamoDB requests per issue call, mix  {issued_calls / len(asks):.2f}")
    print(f"DynamoDB requests per new code         {per_new:.2f}  (pool read, claim read, one TransactWriteItems)")
    print(f"DynamoDB requests per repeated issue   {per_repeat:.2f}  (pool read, claim read)")
    print(f"DynamoDB requests per redeemed code    {per_redeemed:.2f}  (code read, pool read, one TransactWriteItems)")
    print(f"DynamoDB requests per replayed order   {per_replay}  (the code read: already redeemed by this event)")
    print(f"redeem calls by operation              {calls}")

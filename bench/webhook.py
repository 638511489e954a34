"""The webhook handler in process on moto: notifications per second and AWS requests per item.

Steady state: every sender is a known customer and every status belongs to a known send, and
the handler is warm (config cached). Scenarios: a 1-message POST, a 100-message batch (100
customers), a 1-status POST and a 100-status batch. Targets (issue 3): at most 2 DynamoDB
writes per inbound message and 1 per status. moto answers in-process, so times measure our
code plus moto, not the network; the request counts are what AWS would bill. A last table
replays the batches with a simulated 5 ms per AWS call, sequentially and with the thread pool.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import warnings
from typing import Any

from bench.common import SECRETS, moto_stack, stopwatch, table_row

CUSTOMERS = 100
SIMULATED_LATENCY = 0.005
WRITE_OPS = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def customer_id(n: int) -> str:
    return f"c_{n:032x}"


def seed(send_key: str) -> None:
    """100 known customers, each with one campaign send and its wamid pointer."""
    from engage import wiring
    from engage.customers.profiles import Customer

    table = wiring.aws.table()
    for n in range(CUSTOMERS):
        cid = customer_id(n)
        wiring.customers.repository().create(
            Customer(id=cid, wa_id=f"49151{n:08d}", user_id=f"DE.{n:019d}", name=f"C{n}")
        )
        table.put(
            {
                "pk": f"CUST#{cid}",
                "sk": f"SEND#{send_key}",
                "type": "send",
                "customer_id": cid,
                "send_key": send_key,
                "campaign_id": send_key,
                "status": "accepted",
                "status_rank": 0,
            }
        )


def message_body(first: int, count: int, serial: int) -> dict[str, Any]:
    from tests.helpers.whatsapp import T0, contact, inbound, text

    messages, contacts = [], []
    for i in range(count):
        n = (first + i) % CUSTOMERS
        wa_id, user_id = f"49151{n:08d}", f"DE.{n:019d}"
        wamid = f"wamid.b{serial}.{i}"
        messages.append(text(f"msg {serial}-{i}", wamid=wamid, ts=T0 + serial, wa_id=wa_id, user_id=user_id))
        contacts.append(contact(wa_id, user_id, f"C{n}"))
    return inbound(*messages, contacts=contacts)


def status_body(first: int, count: int, serial: int, send_key: str) -> dict[str, Any]:
    from tests.helpers.whatsapp import T0, status, statuses

    names = ("sent", "delivered", "read")
    items = []
    for i in range(count):
        n = (first + i) % CUSTOMERS
        name = names[serial % 3]
        callback = f"{customer_id(n)}|{send_key}"
        items.append(status(f"wamid.s{n}", name, ts=T0 + serial, callback=callback, recipient=f"49151{n:08d}"))
    return statuses(*items)


def measure(label: str, bodies: list[dict[str, Any]], items_per_post: int, counter: Any) -> dict[str, Any]:
    from functions.webhook import app
    from tests.conftest import FakeLambdaContext
    from tests.helpers.whatsapp import signed_webhook_event

    events = [signed_webhook_event(body, SECRETS["WHATSAPP_APP_SECRET"]) for body in bodies]
    context = FakeLambdaContext()
    counter.reset()
    with stopwatch() as clock, contextlib.redirect_stdout(io.StringIO()):  # EMF metric lines
        for event in events:
            response = app.lambda_handler(event, context)
            assert response["statusCode"] == 200, response
    posts = len(events)
    items = posts * items_per_post
    calls = dict(counter.calls)
    writes = sum(n for key, n in calls.items() if key.split(".")[1] in WRITE_OPS and key.startswith("dynamodb"))
    return {
        "label": label,
        "posts": posts,
        "items": items,
        "seconds": clock["seconds"],
        "calls": calls,
        "writes_per_item": writes / items,
        "calls_per_item": counter.total() / items,
    }


def items_per_post(result: dict[str, Any]) -> int:
    return int(result["items"] // result["posts"])


def report(result: dict[str, Any], target_writes: float) -> None:
    seconds = result["seconds"]
    print(f"\n{result['label']}: {result['posts']} POSTs, {result['items']} items in {seconds:.2f} s")
    print(table_row("notifications/s", result["posts"] / seconds, widths=(28,)))
    print(table_row("items/s", result["items"] / seconds, widths=(28,)))
    print(table_row("ms per notification", 1000 * seconds / result["posts"], widths=(28,)))
    print(table_row("AWS requests per notification", result["calls_per_item"] * items_per_post(result), widths=(28,)))
    print(table_row("AWS requests per item", result["calls_per_item"], widths=(28,)))
    for key, n in sorted(result["calls"].items()):
        print(table_row(f"  {key} per item", n / result["items"], widths=(28,)))
    ratio = result["writes_per_item"] / target_writes
    verdict = "OK" if ratio <= 1 else "OVER TARGET"
    print(
        table_row("DynamoDB writes per item", result["writes_per_item"], widths=(28,))
        + f"   target <= {target_writes:g}  ratio {ratio:.2f}  {verdict}"
    )


class Latency:
    """Sleeps before every AWS call, like a network round trip (sleeping releases the GIL)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, **_: Any) -> None:
        if self.seconds:
            time.sleep(self.seconds)


def with_workers(workers: int) -> None:
    from engage import wiring

    os.environ["ENGAGE_WEBHOOK_WORKERS"] = str(workers)
    wiring.reset()  # new clients (they copy the session's hooks), new pool


def simulate(counter: Any, send_key: str, serial: int) -> None:
    """The same batches with 5 ms per AWS call: sequential writes vs the thread pool."""
    import boto3

    latency = Latency()
    boto3.DEFAULT_SESSION.events.register("before-call.*.*", latency)  # type: ignore[union-attr]
    latency.seconds = SIMULATED_LATENCY
    ms = 1000 * SIMULATED_LATENCY
    print(f"\nwith {ms:.0f} ms added to every AWS call (a typical in-region DynamoDB round trip);")
    print("moto's own CPU time is in both columns, the difference is the network time the pool overlaps:")
    print(table_row("ms per POST", "1 worker", "8 workers", widths=(28, 12, 12)))
    base = serial

    def messages(k: int, count: int, posts: int) -> list[dict[str, Any]]:
        return [message_body(0, count, base + 100 * k + count + i) for i in range(posts)]

    def status_batches(k: int) -> list[dict[str, Any]]:
        return [status_body(0, CUSTOMERS, base + 100 * k + i, send_key) for i in range(2)]

    rows = [
        ("1-message POST", lambda k: messages(k, 1, 10), 1),
        ("100-message batch", lambda k: messages(k, CUSTOMERS, 2), CUSTOMERS),
        ("100-status batch", status_batches, CUSTOMERS),
    ]
    for label, bodies, per_post in rows:
        cells = []
        for workers in (1, 8):
            with_workers(workers)
            measure("warm", [message_body(workers, 1, serial + 500 + workers)], 1, counter)  # cold clients, config
            result = measure(label, bodies(workers), per_post, counter)
            cells.append(1000 * result["seconds"] / result["posts"])
        print(table_row(label, *cells, widths=(28, 12, 12)))
    latency.seconds = 0.0
    with_workers(8)


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    send_key = "camp_bench"
    with moto_stack(ENGAGE_WEBHOOK_WORKERS="8") as (_resources, counter):
        seed(send_key)
        warm = measure("warm-up (first message of each customer)", [message_body(0, CUSTOMERS, 0)], CUSTOMERS, counter)
        print(f"warm-up: {warm['items']} new-to-inbound customers, {warm['writes_per_item']:.2f} writes per message")
        one_message = [message_body(i, 1, 1 + i) for i in range(200)]
        message_batches = [message_body(0, CUSTOMERS, 300 + i) for i in range(10)]
        one_status = [status_body(i, 1, i, send_key) for i in range(200)]
        status_batches = [status_body(0, CUSTOMERS, 3 + i, send_key) for i in range(3)]
        results = [
            (measure("1-message POST", one_message, 1, counter), 2),
            (measure("100-message batch", message_batches, CUSTOMERS, counter), 2),
            (measure("1-status POST", one_status, 1, counter), 1),
            (measure("100-status batch", status_batches, CUSTOMERS, counter), 1),
        ]
        print("\nin process on moto (no network), 8 workers:")
        for result, target in results:
            report(result, target)
        single, batch = results[0][0], results[1][0]
        speedup = (batch["items"] / batch["seconds"]) / (single["items"] / single["seconds"])
        print(f"\nbatching: {speedup:.1f}x more messages per second in 100-message POSTs than in 1-message POSTs")
        simulate(counter, send_key, 1000)

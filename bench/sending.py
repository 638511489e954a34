"""Sending benchmarks.

(b) the token bucket alone: the DynamoDB adapter on moto with a virtual clock, 50 concurrent
    senders (a discrete-event simulation), 1,000 msg/s for 10 virtual seconds;
(a) end to end: launch -> dispatcher -> SendQueue -> 4 concurrent senders (threads, each with its
    own Sender as in its own Lambda container) running the real sender handler on moto, against a
    fake WhatsApp served in-process by httpx.MockTransport (the local runtime is not in this
    branch). 5,000 recipients at 80 msg/s, then with the rate set far above what the machine
    carries, to find that ceiling.

Figures: achieved rate / setting, the most messages in any 1-second window, duplicates, AWS
requests per message by service and the infrastructure cost per 1,000,000 messages at list prices.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.common import moto_stack, table_row
from tests.conftest import FakeLambdaContext

# us-east-1 list prices (2026): Lambda arm64 $0.0000133334 per GB-s + $0.20 per 1M requests;
# SQS standard $0.40 per 1M requests; DynamoDB on-demand $0.625 per 1M write request units and
# $0.125 per 1M read request units (items here are < 1 KB written, < 4 KB read).
LAMBDA_GB_S = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
SQS_REQUEST = 0.40 / 1e6
DDB_WRITE = 0.625 / 1e6
DDB_READ = 0.125 / 1e6
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
MICRO = 1_000_000


def max_in_window(times: list[Any], window: float = 1.0) -> int:
    """The most events in any half-open window [t, t + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


# ---------------------------------------------------------------- (b) the bucket itself
def bucket_benchmark(senders: int = 50, rate: float = 1000, seconds: float = 10, block: int = 10) -> dict[str, Any]:
    from engage import wiring
    from engage.adapters.dynamo.buckets import DynamoBuckets
    from engage.throttle import Rate, Wallet, shards_for

    with moto_stack() as (_, counter):
        rate_spec = Rate("bench-number", rate, shards_for(rate, 0))
        # one adapter per sender: each Lambda container keeps its own view of the bucket
        wallets = [Wallet(rate_spec, DynamoBuckets(wiring.table()), block=block) for _ in range(senders)]
        for i, w in enumerate(wallets):
            w._turn = i  # senders start on different shards
        counter.reset()
        events = [(0, i) for i in range(senders)]
        sends: list[int] = []
        slots: Counter[tuple[str, int]] = Counter()
        end = int(seconds * MICRO)
        while events:
            now, i = heapq.heappop(events)
            claim = wallets[i].next_slot(now, block)
            if claim.first is None:
                heapq.heappush(events, (claim.retry_at, i))
                continue
            at = max(now, claim.first)
            if at >= end:
                continue
            sends.append(at)
            slots[(wallets[i].last_key, claim.first)] += 1
            heapq.heappush(events, (at + 1_500, i))  # 1.5 ms of work per send
        requests = counter.total("dynamodb")
    achieved = len(sends) / seconds
    return {
        "setting": rate,
        "shards": rate_spec.shards,
        "achieved_fraction": achieved / rate,
        "max_1s": max_in_window(sends, MICRO),
        "duplicates": sum(n - 1 for n in slots.values()),
        "ddb_requests_per_message": requests / max(1, len(sends)),
        "messages": len(sends),
    }


# ---------------------------------------------------------------- (a) end to end
@dataclass
class FakeGraph:
    lock: threading.Lock
    sent: list[tuple[float, str]]
    ids: Any

    def __call__(self, request: Any) -> Any:
        import httpx

        body = json.loads(request.content)
        with self.lock:
            self.sent.append((time.time(), body["biz_opaque_callback_data"]))
            wamid = f"wamid.{next(self.ids)}"
        to = body["to"]
        return httpx.Response(200, json={"contacts": [{"wa_id": to}], "messages": [{"id": wamid}]})


def seed(recipients: int, rate_per_second: float) -> str:
    from engage import campaigns, wiring
    from engage.adapters.dynamo.customers import CustomerRepository
    from engage.adapters.dynamo.memberships import membership_item
    from engage.campaigns import Campaign, Variant
    from engage.customers import Consent, Customer
    from engage.timeutil import iso, utcnow

    now = utcnow()
    always = [{"start": 0, "end": 24}]
    wiring.sending_config().put_sending(
        {
            "windows": {
                "weekday": always,
                "middle_east": always,
                "europe_americas": always,
                "quiet_start": 24,
                "quiet_end": 0,
            },
            "throttle": {"number_throughput_per_second": 1000, "inbound_headroom": 0.1},
            "messaging_tier": 1_000_000,
        }
    )
    items = []
    for i in range(recipients):
        customer = Customer(id=f"c_{i:08x}", wa_id=f"4915{i:09d}", name=f"Kim{i}", consent=Consent(marketing=True))
        items.append(CustomerRepository.profile_item(customer))
        items.append(membership_item(customer.id, "bench", since=iso(now), source="import"))
    wiring.table().batch_put(items)
    campaign = Campaign(
        id="cmp_bench",
        name="bench",
        rule={"tag": "bench"},
        variants=[Variant(template="bench", body=["{{name}}"])],
        rate_per_minute=int(rate_per_second * 60),
        created_at=iso(now),
    )
    wiring.campaigns().save(campaign)
    campaigns.launch(wiring.campaigns(), wiring.dispatch_queue(), campaign.id, now, wiring.sending_config().sending())
    return campaign.id


def lambda_poller(sqs: Any, url: str, arn: str, handler: Any, stats: dict[str, Any], lock: threading.Lock) -> None:
    """What the SQS event source mapping does for one concurrent execution: poll, invoke, delete."""
    from tests.helpers.sqs import delete_all, receive_event

    empty = 0
    while empty < 3:
        event = receive_event(sqs, url, arn, visibility=180)  # the SendQueue's VisibilityTimeout
        if not event["Records"]:
            empty += 1
            time.sleep(0.2)
            continue
        empty = 0
        start = time.perf_counter()
        result = handler(event, FakeLambdaContext())
        elapsed = time.perf_counter() - start
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        try:
            delete_all(sqs, url, event, failed)
        except sqs.exceptions.ReceiptHandleIsInvalid:
            with lock:
                stats["late_deletes"] = stats.get("late_deletes", 0) + 1
        with lock:
            stats["invocations"] += 1
            stats["seconds"] += elapsed


def end_to_end(recipients: int, rate_per_second: float, senders: int = 4) -> dict[str, Any]:
    from engage import wiring

    original = (wiring.whatsapp, wiring.sender)
    try:
        return _end_to_end(recipients, rate_per_second, senders)
    finally:
        wiring.whatsapp, wiring.sender = original  # type: ignore[method-assign]


def _end_to_end(recipients: int, rate_per_second: float, senders: int) -> dict[str, Any]:
    import boto3
    import httpx

    from engage import wiring
    from engage.adapters.whatsapp import WhatsAppClient
    from engage.settings import WhatsAppSettings
    from functions.dispatcher import app as dispatcher
    from functions.sender import app as sender_app
    from tests.helpers.sqs import drain

    with moto_stack() as (resources, counter):
        lock = threading.Lock()
        graph = FakeGraph(lock, [], itertools.count(1))
        client = WhatsAppClient(WhatsAppSettings.from_env(), http=httpx.Client(transport=httpx.MockTransport(graph)))
        wiring.whatsapp = lambda: client  # type: ignore[assignment]
        local = threading.local()
        build_sender = wiring.sender.__wrapped__  # type: ignore[attr-defined]

        def per_container_sender() -> Any:
            if not hasattr(local, "sender"):
                local.sender = build_sender()
            return local.sender

        wiring.sender = per_container_sender  # type: ignore[assignment]
        sqs = boto3.client("sqs", region_name="eu-west-1")

        def queue(logical: str) -> tuple[str, str]:
            url = resources.queues[logical]
            return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        seed(recipients, rate_per_second)
        counter.reset()
        drain(sqs, *queue("DispatchQueue"), dispatcher.lambda_handler, FakeLambdaContext())
        dispatch_calls = Counter(counter.calls)
        counter.reset()
        stats = {"invocations": 0, "seconds": 0.0}
        threads = [
            threading.Thread(
                target=lambda_poller, args=(sqs, *queue("SendQueue"), sender_app.lambda_handler, stats, lock)
            )
            for _ in range(senders)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        send_calls = Counter(counter.calls)
    times = sorted(t for t, _ in graph.sent)
    span = (times[-1] - times[0]) if len(times) > 1 else 1.0
    achieved = (len(times) - 1) / span if span else 0.0
    return {
        "setting": rate_per_second,
        "sent": len(times),
        "achieved": achieved,
        "achieved_fraction": achieved / rate_per_second,
        "max_1s": max_in_window(times),
        "duplicates": len(graph.sent) - len({key for _, key in graph.sent}),
        "wall": wall,
        "calls": send_calls + dispatch_calls,
        "lambda": stats,
    }


def cost_per_million(result: dict[str, Any], ms_per_message_real: float = 300.0) -> dict[str, float]:
    """Infrastructure cost per 1,000,000 messages from the counted requests.

    DynamoDB: every write is 1 WRU, plus 1 for gsi1 on the two writes of each campaign send item
    (intent and outcome) and 1 per dispatch page item; reads 1 RRU (strongly consistent, < 4 KB).
    Lambda: invocations counted here; duration assumes `ms_per_message_real` per message in AWS
    (WhatsApp answers in ~250 ms, DynamoDB ~5 ms a call), 512 MB, plus the dispatcher's pages.
    """
    n = max(1, result["sent"])
    calls: Counter[str] = result["calls"]
    per = 1e6 / n
    ddb_writes = sum(v for k, v in calls.items() if k.startswith("dynamodb.") and k.split(".")[1] in WRITES)
    ddb_reads = sum(v for k, v in calls.items() if k.startswith("dynamodb.")) - ddb_writes
    wru = ddb_writes + 2 * n
    sqs_requests = sum(v for k, v in calls.items() if k.startswith("sqs."))
    invocations = result["lambda"]["invocations"]
    gb_s = n * ms_per_message_real / 1000 * 0.5
    return {
        "dynamodb": (wru * DDB_WRITE + ddb_reads * DDB_READ) * per,
        "sqs": sqs_requests * SQS_REQUEST * per,
        "lambda": (invocations * LAMBDA_REQUEST + gb_s * LAMBDA_GB_S) * per,
    }


def print_end_to_end(label: str, result: dict[str, Any]) -> None:
    n = max(1, result["sent"])
    calls: Counter[str] = result["calls"]
    print(
        f"{label}: sent {result['sent']:,} in {result['wall']:.1f} s; achieved {result['achieved']:.1f} msg/s "
        f"= {result['achieved_fraction']:.3f} of the setting; max in any 1 s: {result['max_1s']}; "
        f"duplicates: {result['duplicates']}; sender invocations: {result['lambda']['invocations']:,} "
        f"(mean {1000 * result['lambda']['seconds'] / max(1, result['lambda']['invocations']):.0f} ms each)"
    )
    by_service = Counter()
    for key, value in calls.items():
        by_service[key.split(".")[0]] += value
    for service, total in sorted(by_service.items()):
        ops = ", ".join(
            f"{k.split('.')[1]} {v / n:.3f}" for k, v in sorted(calls.items()) if k.startswith(service + ".")
        )
        print(f"    {service}: {total / n:.3f} requests/message ({ops})")
    cost = cost_per_million(result)
    print(
        "    cost per 1,000,000 messages: "
        + ", ".join(f"{k} ${v:,.2f}" for k, v in cost.items())
        + f", total ${sum(cost.values()):,.2f}"
    )


def run() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    print("(b) token bucket: DynamoDB adapter on moto, virtual clock, 50 senders, 1,000 msg/s, 10 s")
    b = bucket_benchmark()
    print(table_row("setting msg/s", "shards", "achieved/set", "max in 1 s", "duplicates", "DDB req/msg"))
    print(
        table_row(
            f"{b['setting']:,.0f}",
            b["shards"],
            f"{b['achieved_fraction']:.3f}",
            b["max_1s"],
            b["duplicates"],
            f"{b['ddb_requests_per_message']:.3f}",
        )
    )
    print("\n(a) end to end on moto: dispatcher + 4 sender threads through the sender handler, fake WhatsApp")
    print("    (httpx.MockTransport in-process; number throughput set to 1,000/s so the campaign rate binds)")
    a = end_to_end(5000, 80)
    print_end_to_end("5,000 recipients, rate 80 msg/s", a)
    carried = max(1, int(a["achieved"] * 0.8))
    print(f"    the machine carries about {a['achieved']:.1f} msg/s on in-process moto; rerun at {carried} msg/s:")
    c = end_to_end(300, carried)
    print_end_to_end(f"300 recipients, rate {carried} msg/s", c)
    print(
        "    prices: Lambda arm64 $0.0000133334/GB-s + $0.20/1M requests (512 MB, 300 ms a message in AWS); "
        "SQS $0.40/1M requests; DynamoDB on-demand $0.625/1M WRU, $0.125/1M RRU (+1 WRU per gsi1 write)"
    )

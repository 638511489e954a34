"""Sending benchmarks.

(b) the token bucket alone: the DynamoDB adapter on moto with a virtual clock, 50 concurrent
    senders (a discrete-event simulation), 1,000 msg/s for 10 virtual seconds;
(a) end to end through the local runtime: a template and a campaign over HTTP, launch, the
    dispatcher's pages, 4 sender environments (`sender_workers=4`) on the SendQueue, the runtime's
    fake WhatsApp. 5,000 recipients at 80 msg/s, then at 80% of what that run carried;
(a') the senders alone in real time: 4 environments built like the sender's (one Sender and one
    Throttle each, batches of 10 all in flight) on in-memory stores and buckets, against a WhatsApp
    that answers in 150 ms: what the sending code carries when the emulator is not the limit.

Figures: achieved rate / setting, the most messages in any 1-second window, duplicates, AWS
requests per message by service and the infrastructure cost per 1,000,000 messages at list prices.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

from bench.common import moto_stack, table_row

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


# ---------------------------------------------------------------- (b) the bucket itself
def bucket_benchmark(senders: int = 50, rate: float = 1000, seconds: float = 10, block: int = 10) -> dict[str, Any]:
    from engage import wiring
    from engage.adapters.dynamo.delivery_buckets import DynamoBuckets
    from engage.delivery.throttle import Rate, Wallet, shards_for
    from tests.fakes.sending import max_in_window

    with moto_stack() as (_, counter):
        rate_spec = Rate("bench-number", rate, shards_for(rate, 0))
        # one adapter per sender: each Lambda container keeps its own view of the bucket
        wallets = [Wallet(rate_spec, DynamoBuckets(wiring.aws.table()), block=block) for _ in range(senders)]
        for i, w in enumerate(wallets):
            w._turn = i  # senders start on different shards
        counter.reset()
        events = [(0, i) for i in range(senders)]
        sends: list[int] = []
        slots: Counter[tuple[str, int]] = Counter()
        end = int(seconds * MICRO)
        while events:
            now, i = heapq.heappop(events)
            key, claim = wallets[i].next_slot(now, block)
            if claim.first is None:
                heapq.heappush(events, (claim.retry_at, i))
                continue
            at = max(now, claim.first)
            if at >= end:
                continue
            sends.append(at)
            slots[(key, claim.first)] += 1
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


# ---------------------------------------------------------------- (a) end to end, local runtime
TEMPLATE = {
    "name": "bench",
    "language": "en",
    "category": "marketing",
    "body": "Hi {{1}}, the new season is in.\nTap Shop now to see it.",
    "buttons": [{"type": "quick_reply", "text": "Stop promotions", "opt_out": True}],
}


def seed_customers(recipients: int) -> None:
    """Consenting customers tagged `bench`, and send windows open all day (an import, not the API)."""
    from engage import wiring
    from engage.adapters.dynamo.customers import CustomerRepository
    from engage.adapters.dynamo.tagging_memberships import membership_item
    from engage.core.time import iso, utcnow
    from engage.customers.profiles import Consent, Customer

    always = [{"start": 0, "end": 24}]
    windows = {"weekday": always, "middle_east": always, "europe_americas": always, "quiet_start": 24, "quiet_end": 0}
    wiring.delivery.config().put_sending(
        {
            "windows": windows,
            "throttle": {"number_throughput_per_second": 1000, "inbound_headroom": 0.1},
            "messaging_tier": 1_000_000,
        }
    )
    items = []
    for i in range(recipients):
        customer = Customer(id=f"c_{i:08x}", wa_id=f"4915{i:09d}", name=f"Kim{i}", consent=Consent(marketing=True))
        items.append(CustomerRepository.profile_item(customer))
        items.append(membership_item(customer.id, "bench", since=iso(utcnow()), source="import"))
    wiring.aws.table().batch_put(items)


def count_aws_requests(counter: Counter[str]) -> Any:
    """Counts every emulated AWS request by 'service.Operation' (the pollers' own SQS calls too: the
    event source mapping's receives and deletes are billed like any other)."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        host = request.url.split("/")[2].split(".")[0]
        target = request.headers.get("X-Amz-Target", b"") or b""
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        if not operation:  # SQS's query protocol names the action in the body
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            operation = next((p[7:] for p in body.split("&") if p.startswith("Action=")), "?")
        counter[f"{host}.{operation}"] += 1
        return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    return lambda: setattr(BotocoreStubber, "process_request", original)


def end_to_end(recipients: int, rate_per_second: float, senders: int = 4) -> dict[str, Any]:
    """Through the local runtime: the campaign is created and launched over HTTP, the dispatcher and
    `senders` concurrent sender environments run from their queues, WhatsApp is the runtime's fake."""

    from engage.delivery.throttle import Throttle

    calls: Counter[str] = Counter()
    slots: list[float] = []  # when the buckets let each send go (what the throttle controls)
    wait_until = Throttle.wait_until

    def record_slot(self: Throttle, at_us: int) -> None:
        slots.append(at_us / MICRO)
        wait_until(self, at_us)

    Throttle.wait_until = record_slot  # type: ignore[method-assign]
    try:
        return _end_to_end(recipients, rate_per_second, senders, calls, slots)
    finally:
        Throttle.wait_until = wait_until  # type: ignore[method-assign]


def _end_to_end(
    recipients: int, rate_per_second: float, senders: int, calls: Counter[str], slots: list[float]
) -> dict[str, Any]:
    import httpx

    from local.runtime import LocalRuntime
    from tests.fakes.sending import max_in_window

    with LocalRuntime(sender_workers=senders, log_level="ERROR") as runtime:
        runtime.fake.set_behaviour({"read_rate": 0, "reply_rate": 0, "deliver": False})  # type: ignore[union-attr]
        seed_customers(recipients)
        consumers = {c.name: c for c in runtime.sqs_consumers}
        dispatch, send = consumers["DispatcherFunction/DispatchJobs"], consumers["SenderFunction/SendJobs"]
        undo = count_aws_requests(calls)
        try:
            with httpx.Client(base_url=runtime.url, headers=runtime.bearer("marketer"), timeout=60) as api:
                template = api.post("/v1/templates", json=TEMPLATE)
                assert template.status_code in (200, 201), template.text
                body = {
                    "name": "bench",
                    "rule": {"tag": "bench"},
                    "variants": [{"name": "A", "template": "bench", "body": ["{{name}}"]}],
                    "rate_per_minute": int(rate_per_second * 60),
                }
                created = api.post("/v1/campaigns", json=body)
                assert created.status_code == 201, created.text
                launched = api.post(f"/v1/campaigns/{created.json()['id']}/launch")
                assert launched.status_code == 200, launched.text
            started = time.perf_counter()
            while dispatch.drain().batches:  # pages chain through the dispatch queue
                pass
            dispatched = time.perf_counter()
            sqs = runtime.session.client("sqs")
            while send.drain().batches or queue_busy(sqs, runtime.resources.queues["SendQueue"]):
                time.sleep(0.05)  # a retried job is invisible for a moment
            wall = time.perf_counter() - started
        finally:
            undo()
        calls.pop("sqs.GetQueueAttributes", None)  # queue_busy's, not the application's
        messages = runtime.fake.messages()  # type: ignore[union-attr]
    times = sorted(datetime.strptime(m["sent_at"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() for m in messages)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / span if span else 0.0
    keys = [m["biz_opaque_callback_data"] for m in messages]
    return {
        "setting": rate_per_second,
        "sent": len(times),
        "achieved": achieved,
        "achieved_fraction": achieved / rate_per_second,
        "max_1s": max_in_window(times, 1.0),
        "max_1s_slots": max_in_window(slots, 1.0),
        "duplicates": len(keys) - len(set(keys)),
        "wall": wall,
        "dispatch_seconds": dispatched - started,
        "calls": calls,
        "lambda": {"invocations": send.stats.batches + dispatch.stats.batches, "failed": send.stats.failed},
    }


def queue_busy(sqs: Any, url: str) -> bool:
    """Messages still waiting or in flight (the benchmark's own check: not counted as the app's)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return any(int(v) for v in attributes.values())


# ---------------------------------------------------------------- (a') the senders alone, in real time
class Serialised:
    """Every call under one lock: an in-memory store's operations become atomic, as DynamoDB's are."""

    def __init__(self, target: Any, lock: threading.Lock) -> None:
        self._target, self._lock = target, lock

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._target, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return found(*args, **kwargs)

        return call


class SlowWhatsApp:
    """Takes `latency` seconds to answer, like the Cloud API; records when each request arrived."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.sent: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def send(self, message: Any) -> Any:
        from engage.delivery.outbound import SendResult

        arrived = time.time()
        time.sleep(self.latency)
        with self._lock:
            self.sent.append((arrived, message.callback_data))
            wamid = f"wamid.{next(self._ids)}"
        return SendResult(wamid=wamid, wa_id=message.to)


def senders_alone(recipients: int, rate_per_second: float, senders: int = 4, latency: float = 0.15) -> dict[str, Any]:
    """The real sender code (app.py's shape: batches of 10 run side by side, one Sender and one
    Throttle per environment, the buckets shared) on in-memory stores, in real time, against a
    WhatsApp that takes `latency` to answer: what the sending design carries when storage is not
    the emulator. Stores are serialised per call; the buckets are the in-memory GCRA."""
    import queue
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from engage.campaigns.campaign import Campaign, Variant
    from engage.core.time import iso, utcnow
    from engage.customers.profiles import Consent, Customer
    from engage.delivery.config import SendingConfig
    from engage.delivery.jobs import SendJob, TemplateMessage
    from engage.delivery.sender import RetryLater, Sender, SenderPorts
    from engage.delivery.throttle import MemoryBuckets, Throttle
    from tests.fakes.sending import (
        FakeAlerts,
        FakeCampaigns,
        FakeConfig,
        FakeCustomers,
        FakeQueue,
        FakeSends,
        FakeShortener,
        max_in_window,
    )

    lock = threading.Lock()
    always = [{"start": 0, "end": 24}]
    config = SendingConfig.model_validate(
        {
            "windows": {"weekday": always, "middle_east": always, "europe_americas": always, "quiet_start": 24,
                        "quiet_end": 0},
            "throttle": {"number_throughput_per_second": 1000, "inbound_headroom": 0.1},
        }
    )  # fmt: skip
    customers, sends, campaigns = FakeCustomers(), FakeSends(), FakeCampaigns()
    now = utcnow()
    campaigns.items["cmp_bench"] = Campaign(
        id="cmp_bench",
        name="bench",
        rule={"tag": "bench"},
        variants=[Variant(template="bench", body=["{{name}}"])],
        status="running",
        rate_per_minute=int(rate_per_second * 60),
        created_at=iso(now),
        ends_at=iso(now + timedelta(days=1)),
    )
    jobs: queue.Queue[SendJob] = queue.Queue()
    for i in range(recipients):
        customer = customers.add(
            Customer(id=f"c_{i:08x}", wa_id=f"4915{i:09d}", name=f"Kim{i}", consent=Consent(marketing=True))
        )
        message = TemplateMessage(template="bench", variables={"body": ["{{name}}"]})
        jobs.put(SendJob(customer_id=customer.id, send_key="cmp_bench", campaign_id="cmp_bench", message=message))
    whatsapp, buckets = SlowWhatsApp(latency), Serialised(MemoryBuckets(), lock)
    outstanding = [recipients]
    retried = [0]

    def environment() -> None:
        throttle = Throttle.configured(
            buckets, config.throttle, clock_us=lambda: int(time.time() * MICRO), sleep=time.sleep
        )
        ports = SenderPorts(
            customers=Serialised(customers, lock),  # type: ignore[arg-type]
            sends=Serialised(sends, lock),  # type: ignore[arg-type]
            campaigns=Serialised(campaigns, lock),  # type: ignore[arg-type]
            whatsapp=whatsapp,
            throttle=throttle,
            queue=FakeQueue(),
            alerts=FakeAlerts(),
            config=FakeConfig(config),
            shortener=FakeShortener(),
            phone_number_id="1234567890",
        )
        sender = Sender(ports, clock=utcnow)

        def one(job: SendJob) -> None:
            try:
                sender.handle(job)
            except RetryLater as retry:  # back to the queue after its delay, as SQS would
                with lock:
                    retried[0] += 1
                threading.Timer(retry.delay, jobs.put, args=(job,)).start()
                return
            with lock:
                outstanding[0] -= 1

        with ThreadPoolExecutor(max_workers=10) as pool:
            while outstanding[0] > 0:
                batch: list[SendJob] = []
                while len(batch) < 10:
                    try:
                        batch.append(jobs.get(timeout=0.05 if not batch else 0))
                    except queue.Empty:
                        break
                if not batch:
                    continue
                sender.expect(len(batch))
                list(pool.map(one, batch))
                throttle.release_unused()

    started = time.perf_counter()
    threads = [threading.Thread(target=environment) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    times = sorted(t for t, _ in whatsapp.sent)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / span if span else 0.0
    return {
        "setting": rate_per_second,
        "sent": len(times),
        "achieved_fraction": achieved / rate_per_second,
        "max_1s": max_in_window(times, 1.0),
        "duplicates": len(whatsapp.sent) - len({key for _, key in whatsapp.sent}),
        "wall": wall,
        "retried": retried[0],
        "bucket_requests_per_message": buckets.requests / max(1, len(times)),
    }


def cost_per_million(result: dict[str, Any], senders: int = 4) -> dict[str, float]:
    """Infrastructure cost per 1,000,000 messages from the counted requests.

    DynamoDB: every write is 1 WRU, plus 1 for gsi1 on the two writes of each campaign send item
    (intent and outcome) and 1 per dispatch page item; reads 1 RRU (strongly consistent, < 4 KB).
    Lambda: invocations counted here, 512 MB. In AWS a batch of 10 runs in parallel and lasts
    about one WhatsApp round trip (~300 ms) or, when the rate binds, the 10 slots the sender's
    share of the rate spaces out (10 * senders / rate seconds): that is the billed time.
    """
    n = max(1, result["sent"])
    calls: Counter[str] = result["calls"]
    per = 1e6 / n
    ddb_writes = sum(v for k, v in calls.items() if k.startswith("dynamodb.") and k.split(".")[1] in WRITES)
    ddb_reads = sum(v for k, v in calls.items() if k.startswith("dynamodb.")) - ddb_writes
    wru = ddb_writes + 2 * n
    sqs_requests = sum(v for k, v in calls.items() if k.startswith("sqs."))
    invocations = result["lambda"]["invocations"]
    batch_seconds = max(0.3, 10 * senders / result["setting"])
    gb_s = n / 10 * batch_seconds * 0.5
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
        f"= {result['achieved_fraction']:.3f} of the setting; max in any 1 s: {result['max_1s']} at WhatsApp, "
        f"{result['max_1s_slots']} at the slots the buckets gave; "
        f"duplicates: {result['duplicates']}; invocations: {result['lambda']['invocations']:,} "
        f"({result['lambda']['failed']:,} jobs retried); dispatch took {result['dispatch_seconds']:.1f} s"
    )
    by_service: Counter[str] = Counter()
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
    print("\n(a) end to end through the local runtime: campaign over HTTP, dispatcher, 4 sender environments")
    print("    (each keeps 3 jobs of its batch in flight, the runtime's default), the fake WhatsApp; number")
    print("    throughput 1,000/s so the campaign's rate binds")
    a = end_to_end(5000, 80)
    print_end_to_end("5,000 recipients, rate 80 msg/s", a)
    carried = max(1, int(a["achieved"] * 0.8))
    print(f"    this machine carried {a['achieved']:.1f} msg/s; the same run with the rate set to {carried} msg/s:")
    c = end_to_end(5000, carried)
    print_end_to_end(f"5,000 recipients, rate {carried} msg/s", c)
    print(
        "    prices: Lambda arm64 $0.0000133334/GB-s + $0.20/1M requests (512 MB); SQS $0.40/1M requests; "
        "DynamoDB on-demand $0.625/1M WRU, $0.125/1M RRU (+1 WRU per gsi1 write)"
    )
    print("\n(a') the 4 senders alone in real time: the same sender code, batches of 10 all in flight, in-memory")
    print("    stores and buckets, a WhatsApp that answers in 150 ms")
    print(table_row("recipients", "setting msg/s", "achieved/set", "max in 1 s", "duplicates", "bucket req/msg"))
    for recipients, rate in ((5000, 80), (5000, 120), (5000, 160)):
        r = senders_alone(recipients, rate)
        print(
            table_row(
                recipients,
                f"{rate:,.0f}",
                f"{r['achieved_fraction']:.3f}",
                r["max_1s"],
                r["duplicates"],
                f"{r['bucket_requests_per_message']:.3f}",
            )
        )

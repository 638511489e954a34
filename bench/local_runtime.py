"""The local runtime's own overhead: start-up, one HTTP round trip through the real api handler, one
fake WhatsApp send, and how fast a drain moves SQS jobs through a no-op sender with 1 and 4 workers."""

from __future__ import annotations

import json
import logging
import statistics
import time
import warnings
from typing import Any

import httpx

from bench.common import stopwatch, table_row

REQUESTS = 200
JOBS = 500


def _latencies(call: Any, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def _drain_rate(workers: int) -> tuple[float, dict[str, Any]]:
    from local.runtime import LocalRuntime

    def sender(event: dict, context: Any) -> dict:
        return {"batchItemFailures": []}

    with LocalRuntime(sender_workers=workers, handlers={"SenderFunction": sender}) as rt:
        sqs = rt.session.client("sqs")
        url = rt.resources.queues["SendQueue"]
        for start in range(0, JOBS, 10):
            entries = [{"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(start, start + 10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        with stopwatch() as took:
            report = rt.drain()
    return JOBS / took["seconds"], report["consumers"]["SenderFunction/SendJobs"]


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.getLogger("local").setLevel(logging.ERROR)
    from local.runtime import LocalRuntime

    with stopwatch() as started:
        runtime = LocalRuntime(log_level="ERROR").start()
    try:
        with httpx.Client(base_url=runtime.url) as client:
            marketer = runtime.bearer("marketer")
            api = _latencies(lambda: client.get("/v1/customers/4915100000000", headers=marketer), REQUESTS)
            denied = _latencies(lambda: client.get("/v1/customers/4915100000000"), REQUESTS)
            body = {"messaging_product": "whatsapp", "to": "4915100000001", "type": "text", "text": {"body": "Hi"}}
            access = {"authorization": f"Bearer {runtime.secrets['WHATSAPP_ACCESS_TOKEN']}"}
            url = f"{runtime.graph_base}/{runtime.phone_number_id}/messages"
            send = _latencies(lambda: client.post(url, json=body, headers=access), REQUESTS)
    finally:
        runtime.stop()
    widths = (44, 10, 10)
    print(f"start-up (moto, template resources, handler imports): {started['seconds']:.2f} s")
    print(table_row("round trip (ms)", "p50", "p95", widths=widths))
    print(table_row("GET /v1/customers/{ref} -> api handler (404)", *api, widths=widths))
    print(table_row("GET /v1/customers/{ref} without token (401)", *denied, widths=widths))
    print(table_row("POST fake WhatsApp /messages", *send, widths=widths))
    print(table_row(f"drain of {JOBS} send jobs, no-op sender", "jobs/s", "batches", widths=widths))
    for workers in (1, 4):
        rate, stats = _drain_rate(workers)
        print(table_row(f"  {workers} worker(s)", rate, stats["batches"], widths=widths))

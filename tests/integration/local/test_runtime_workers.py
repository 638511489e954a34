"""Parallel sender workers, the local MaximumConcurrency (own module: one runtime per process at a time)."""

from __future__ import annotations

import threading
from typing import Any

from local.runtime import LocalRuntime


def test_parallel_sender_workers_run_batches_at_the_same_time():
    # Given a runtime with four sender workers, and a sender whose first two batches wait for each other
    meet = threading.Barrier(2, timeout=10)
    calls: list[int] = []
    lock = threading.Lock()

    def sender(event: dict, context: Any) -> dict:
        with lock:
            calls.append(len(event["Records"]))
            first_two = len(calls) <= 2
        if first_two:
            meet.wait()  # raises BrokenBarrierError unless another batch runs meanwhile
        return {"batchItemFailures": []}

    with LocalRuntime(sender_workers=4, handlers={"SenderFunction": sender}) as runtime:
        sqs = runtime.session.client("sqs")
        url = runtime.resources.queues["SendQueue"]
        for start in range(0, 80, 10):
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": str(n)} for n in range(start, start + 10)]
            )
        report = runtime.drain()
    # Then two batches overlapped and every job ran exactly once
    stats = report["consumers"]["SenderFunction/SendJobs"]
    assert (stats["records"], stats["errors"], stats["failed"]) == (80, 0, 0)
    assert sum(calls) == 80

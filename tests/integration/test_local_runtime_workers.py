"""Parallel sender workers, the local MaximumConcurrency (own module: one runtime per process at a time)."""

from __future__ import annotations

import threading
import time
from typing import Any

from local.runtime import LocalRuntime


def test_parallel_sender_workers_each_run_their_own_batches():
    # Given a runtime with four sender workers and a slow sender
    active, peak, lock = [0], [0], threading.Lock()

    def slow(event: dict, context: Any) -> dict:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return {"batchItemFailures": []}

    with LocalRuntime(sender_workers=4, handlers={"SenderFunction": slow}) as runtime:
        url = runtime.resources.queues["SendQueue"]
        for start in range(0, 80, 10):
            runtime.session.client("sqs").send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": str(n)} for n in range(start, start + 10)]
            )
        report = runtime.drain()
    # Then every job ran once, with batches overlapping
    assert report["consumers"]["SenderFunction/SendJobs"]["records"] == 80
    assert peak[0] > 1

"""SQS queue adapter: JSON bodies, batches of 10, failed entries retried then raised."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

from engage.core.errors import StorageError

SQS_BATCH_LIMIT = 10
MAX_DELAY_SECONDS = 900


class SqsQueue:
    def __init__(self, client: Any, queue_url: str):
        self.client = client
        self.url = queue_url

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        delay = max(0, min(int(delay_seconds), MAX_DELAY_SECONDS))
        for start in range(0, len(bodies), SQS_BATCH_LIMIT):
            entries = {
                uuid.uuid4().hex: {
                    "MessageBody": json.dumps(body, separators=(",", ":"), default=str),
                    "DelaySeconds": delay,
                }
                for body in bodies[start : start + SQS_BATCH_LIMIT]
            }
            for attempt in range(5):
                response = self.client.send_message_batch(
                    QueueUrl=self.url, Entries=[{"Id": k, **v} for k, v in entries.items()]
                )
                failed = {f["Id"] for f in response.get("Failed", [])}
                entries = {k: v for k, v in entries.items() if k in failed}
                if not entries:
                    break
                time.sleep(0.05 * 2**attempt)
            if entries:
                raise StorageError(f"{len(entries)} message(s) could not be queued on {self.url}")


class ChunkFifoQueue:
    """The import chunk queue (FIFO): one message group per import, so an import's chunks run one after
    another in file order (the first occurrence of a number wins) while imports run side by side. The
    deduplication id is the chunk's own, so a re-split within five minutes queues nothing twice."""

    def __init__(self, client: Any, queue_url: str):
        self.client = client
        self.url = queue_url

    def send_chunks(self, import_id: str, chunks: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(chunks), SQS_BATCH_LIMIT):
            entries = [
                {
                    "Id": str(chunk["chunk"]),
                    "MessageBody": json.dumps(chunk, separators=(",", ":")),
                    "MessageGroupId": import_id,
                    "MessageDeduplicationId": f"{import_id}-{chunk['chunk']}",
                }
                for chunk in chunks[start : start + SQS_BATCH_LIMIT]
            ]
            response = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
            if response.get("Failed"):
                raise StorageError(f"{len(response['Failed'])} chunk(s) of {import_id} could not be queued")

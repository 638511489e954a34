"""Counts send-item transitions from the table's stream: one write per counter per batch, exactly once.

The event source has a tumbling window, so every event names its stream shard (`shardId`); the
counters store that shard's position with the batch's counts (docs/metrics.md, "Exactly once").
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.adapters.dynamo.streams import send_item_change_of
from engage.core import telemetry
from engage.core.observability import logger, metrics, tracer
from engage.core.time import utcnow
from engage.metrics.counters import BatchCount, StreamChange, count_batch, stream_change
from engage.metrics.ports import CounterStore

# Without a tumbling window Lambda does not say which shard a batch comes from: then the stream
# is taken as one lane (right for a one-shard stream, as locally and in tests).
WHOLE_STREAM = "stream"


def stream_changes(records: list[dict[str, Any]]) -> list[StreamChange]:
    found = []
    for raw in records:
        body = raw.get("dynamodb") or {}
        position = body.get("SequenceNumber")
        if position is None:
            continue
        old, new = send_item_change_of(raw) or (None, None)
        created = body.get("ApproximateCreationDateTime")
        found.append(stream_change(str(position), old, new, int(created) if created else None))
    return found


def lane_of(event: dict[str, Any]) -> str:
    return str(event.get("shardId") or WHOLE_STREAM)


def handle(event: dict[str, Any], store: CounterStore) -> dict[str, Any]:
    result: BatchCount = count_batch(store, lane_of(event), stream_changes(event.get("Records") or []), utcnow())
    telemetry.count(telemetry.COUNTED_TRANSITIONS, result.counted)
    telemetry.count(telemetry.REPLAYED_TRANSITIONS, result.replayed)
    # Lambda checkpoints before the first failed record and retries from it: the runs before it are
    # written with their position, so the retry skips them.
    failures = [{"itemIdentifier": result.failed_at}] if result.failed_at else []
    response: dict[str, Any] = {"batchItemFailures": failures}
    if "window" in event:
        response["state"] = {}  # a tumbling window's invocation must answer with a state
    return response


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle(event, wiring.metrics.counters())

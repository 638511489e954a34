"""Counts send-item transitions from the table's stream, exactly once (partial batch failures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.adapters.dynamo.streams import send_item_change
from engage.core import telemetry
from engage.core.observability import logger, metrics, tracer
from engage.metrics.counters import count_record
from engage.metrics.ports import CounterStore

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord, store: CounterStore) -> list[str]:
    stream = record.dynamodb
    if stream is None:
        return []
    change = send_item_change(stream.old_image, stream.new_image)
    old, new = change or (None, None)
    counted, replayed = count_record(store, old, new, stream.approximate_creation_date_time)
    telemetry.count(telemetry.COUNTED_TRANSITIONS, len(counted))
    telemetry.count(telemetry.REPLAYED_TRANSITIONS, replayed)
    return counted


def count(record: DynamoDBRecord) -> list[str]:
    """One record, counted into the table (a new counter store per record: see wiring.metrics.counters)."""
    return record_handler(record, wiring.metrics.counters())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    # A batch that fails entirely raises (the default), so Lambda bisects it and retries.
    return process_partial_response(event=event, record_handler=count, processor=processor, context=context)

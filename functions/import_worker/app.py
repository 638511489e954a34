"""Import chunks from the FIFO chunk queue (BatchSize 1, one group per import): validate, write, count once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.audience.imports import Chunk, import_chunk
from engage.core.observability import logger, metrics, tracer
from engage.core.time import utcnow

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    summary = import_chunk(wiring.audience.import_ports(), Chunk.model_validate(record.json_body), utcnow())
    logger.info("import chunk", extra=summary)
    return summary


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

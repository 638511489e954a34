"""Campaign dispatch pages from the DispatchQueue (BatchSize 1): snapshot, split, fan out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.campaigns.dispatch import dispatch_page
from engage.core.observability import logger, metrics, tracer
from engage.core.time import utcnow

# Every failed record carries its own retry delay (or is retried by SQS): report failures, never fail
# the whole invocation, so a batch of throttled jobs does not count as a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    summary = dispatch_page(record.json_body, utcnow(), wiring.campaigns.dispatch_ports())
    logger.info("dispatch page", extra=summary)
    return summary


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=processor,
        context=context,
    )

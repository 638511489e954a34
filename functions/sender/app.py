"""Send jobs from the SendQueue: one record at a time through the sender, partial batch failures."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from engage import wiring
from engage.jobs import SendJob
from engage.observability import logger, metrics, tracer
from engage.sending import RetryLater

# Every failed record carries its own retry delay (or is retried by SQS): report failures, never fail
# the whole invocation, so a batch of throttled jobs does not count as a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class PoisonJob(Exception):
    """An unreadable job: failed at once on every receive, so the redrive policy moves it to the DLQ."""


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        job = SendJob.model_validate_json(record.body)
    except ValidationError as error:
        logger.error("poison send job", extra={"message_id": record.message_id, "reason": str(error)[:500]})
        wiring.send_retry_delay().delay(record.receipt_handle, 0)
        raise PoisonJob(str(error)[:200]) from error
    try:
        outcome = wiring.sender().handle(job, receive_count=int(record.attributes.approximate_receive_count or 1))
    except RetryLater as retry:
        wiring.send_retry_delay().delay(record.receipt_handle, retry.delay)
        raise
    logger.debug("send job done", extra={"send_key": job.send_key, "outcome": outcome.action, "reason": outcome.reason})
    return {"action": outcome.action, "reason": outcome.reason}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring.sender().expect_bodies([r.get("body", "") for r in event.get("Records", [])])
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        wiring.sender().ports.throttle.release_unused()

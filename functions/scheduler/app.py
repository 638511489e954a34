"""Scheduled jobs and the lifecycle pass's pages: look the job up, run it at the given clock."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage.core.observability import logger, metrics, tracer
from engage.schedules import JOBS, PAGES, run_job

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    run_job(PAGES, record.json_body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "Records" in event:  # a page of the lifecycle pass from the PassQueue
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    return run_job(JOBS, event)

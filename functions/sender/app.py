"""Send jobs from the SendQueue: a batch's records run side by side, with partial batch failures.

Groups API calls (`GroupCall`, engage.groups.calls) travel on the same queue: the sender is the one
function holding the WhatsApp token, and a group post books its slot on the same number bucket.

Each job spends most of its time waiting on WhatsApp (100-300 ms) and DynamoDB, so one invocation
keeps the whole batch in flight on a small thread pool instead of sending one job after another;
the shared token buckets still pace every send (engage.delivery.throttle).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from engage import wiring
from engage.core import telemetry
from engage.core.observability import logger, metrics, tracer
from engage.core.time import utcnow
from engage.delivery.jobs import SendJob
from engage.delivery.sender import RetryLater, Sender
from engage.groups.calls import GroupCall
from engage.groups.worker import SlotUnavailable, execute

# This module is loaded once per execution environment (the local runtime loads it once per
# environment too): the environment's own sender, with its own caches and booked slots.
ENVIRONMENT = uuid.uuid4().hex
# Up to the SendJobs event's BatchSize (10): a whole batch in flight at once.
PARALLEL_JOBS = int(os.environ.get("ENGAGE_SENDER_PARALLEL_JOBS", "10"))
_threads = ThreadPoolExecutor(max_workers=PARALLEL_JOBS, thread_name_prefix="send")

# Every failed record carries its own retry delay (or is retried by SQS): report failures, never fail
# the whole invocation, so a batch of throttled jobs does not count as a function error.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class PoisonJob(Exception):
    """An unreadable job: failed at once on every receive, so the redrive policy moves it to the DLQ."""


def sender() -> Sender:
    return wiring.delivery.sender(ENVIRONMENT)


def is_group_call(body: str) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("type") == "group_call"


def group_call_handler(record: SQSRecord) -> dict[str, Any]:
    call = GroupCall.model_validate_json(record.body)
    try:
        result = execute(call, wiring.groups.worker_ports(sender()), utcnow())
    except SlotUnavailable:
        wiring.delivery.retry_delay().delay(record.receipt_handle, 1)
        raise
    logger.info("group call done", extra={"op": call.op, "group_id": call.group_id, "result": result})
    return {"action": call.op, "reason": result}


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        return handle_record(record)
    finally:
        sender().finished()  # it no longer holds the batch's booking gate


def handle_record(record: SQSRecord) -> dict[str, Any]:
    if is_group_call(record.body):
        return group_call_handler(record)
    try:
        job = SendJob.model_validate_json(record.body)
    except ValidationError as error:
        logger.error("poison send job", extra={"message_id": record.message_id, "reason": str(error)[:500]})
        wiring.delivery.retry_delay().delay(record.receipt_handle, 0)
        raise PoisonJob(str(error)[:200]) from error
    try:
        outcome = sender().handle(job, receive_count=int(record.attributes.approximate_receive_count or 1))
    except RetryLater as retry:
        telemetry.send_retried(retry.reason)
        wiring.delivery.retry_delay().delay(record.receipt_handle, retry.delay)
        raise
    telemetry.send_outcome(outcome.action, outcome.reason, outcome.throttle_wait_ms)
    logger.debug("send job done", extra={"send_key": job.send_key, "outcome": outcome.action, "reason": outcome.reason})
    return {"action": outcome.action, "reason": outcome.reason}


async def parallel_record_handler(record: SQSRecord) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(_threads, record_handler, record)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records", [])
    # The jobs run side by side when the pool holds the whole batch: then they book slots together.
    sender().expect_bodies([r.get("body", "") for r in records], together=len(records) <= PARALLEL_JOBS)
    try:
        return async_process_partial_response(
            event=event, record_handler=parallel_record_handler, processor=processor, context=context
        )
    finally:
        sender().ports.throttle.release_unused()

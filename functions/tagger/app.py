"""The tagger: DynamoDB stream consumer for new history items.

Each record goes through PROCESSORS in order; a processor raising fails that record only
(ReportBatchItemFailures), and the stream retries from it. Every processor must be idempotent:
a retried or replayed record changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.adapters.dynamo.streams import history_item
from engage.core.observability import logger, metrics, tracer
from engage.core.time import utcnow
from engage.inbound import replies
from engage.journeys import service as journeys
from engage.rewards import coupons, referrals
from engage.tagging import service as tagging

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def run_rules(item: dict[str, Any]) -> None:
    changes = tagging.tag_event(tagging.ready(wiring.tagging.ports(), utcnow()), item)
    if changes:
        logger.info("tags changed", extra={"customer_id": item["customer_id"], "changes": len(changes)})
        journeys.on_tag_changes(wiring.journeys.ports(), changes, utcnow())


def attribute_reply(item: dict[str, Any]) -> None:
    if replies.is_reply(item):
        store = wiring.inbound.messages()
        replies.attribute_reply(store, item, utcnow(), config=replies.load_reply_config(store))


def redeem_coupon(item: dict[str, Any]) -> None:
    outcome = coupons.redeem_order(wiring.rewards.coupons(), item)
    if outcome:
        logger.info("coupon on order", extra={"customer_id": item["customer_id"], "outcome": outcome})


def referral_steps(item: dict[str, Any]) -> None:
    if not referrals.concerns(item):
        return
    ports = wiring.rewards.ports()
    config = ports.referrals.config()
    outcome = referrals.attribute(ports, item, config) or referrals.reward_on_order(ports, item, config, utcnow())
    if outcome:
        logger.info("referral", extra={"customer_id": item["customer_id"], "outcome": outcome})


def run_journeys(item: dict[str, Any]) -> None:
    """Events reach the journey runs waiting for them; triggers start runs (idempotent by run item)."""
    journeys.on_history_item(wiring.journeys.ports(), item, utcnow())


# Steps run for every new history item, in order.
PROCESSORS: list[Callable[[dict[str, Any]], None]] = [
    run_rules,
    attribute_reply,
    redeem_coupon,
    referral_steps,
    run_journeys,
]


def record_handler(record: DynamoDBRecord) -> None:
    item = history_item(record)
    if item is not None:
        for step in PROCESSORS:
            step(item)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

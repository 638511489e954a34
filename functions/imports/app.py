"""A CSV stored in the imports bucket (S3 ObjectCreated on uploads/): sniff, check, cut into chunks, queue them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from engage import wiring
from engage.audience.imports import import_id_of, split
from engage.core.observability import logger, metrics, tracer
from engage.core.time import utcnow


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    summaries = []
    for record in S3Event(event).records:
        import_id = import_id_of(unquote_plus(record.s3.get_object.key))
        if import_id is None:
            continue
        summary = split(wiring.audience.import_ports(), import_id, utcnow())
        logger.info("import split", extra=summary)
        summaries.append(summary)
    return summaries

"""Backoff for a failed record: its visibility timeout becomes the delay before the next attempt."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from engage.core.observability import logger

MAX_VISIBILITY = 43_200


class SqsRetryDelay:
    def __init__(self, client: Any, queue_url: str):
        self.client = client
        self.url = queue_url

    def delay(self, receipt_handle: str, seconds: int) -> None:
        try:
            self.client.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY))
            )
        except ClientError as error:  # the record is retried anyway, with the queue's own timeout
            logger.warning("could not set the retry delay", extra={"error": str(error)})

"""The alerts topic (SNS): a human gets told when sending had to stop."""

from __future__ import annotations

import json
from typing import Any

from engage.observability import logger


class SnsAlerts:
    def __init__(self, client: Any, topic_arn: str):
        self.client = client
        self.topic_arn = topic_arn

    def publish(self, subject: str, message: str, details: dict[str, Any] | None = None) -> None:
        logger.warning("alert", extra={"subject": subject, "details": details})
        if not self.topic_arn:
            return
        body = json.dumps({"subject": subject, "message": message, "details": details or {}}, default=str)
        self.client.publish(TopicArn=self.topic_arn, Subject=subject[:99], Message=body)

"""SNS adapter for the `Alerts` port: one message per alert, JSON body, short subject."""

from __future__ import annotations

import json
from typing import Any

SUBJECT_LIMIT = 100


class SnsAlerts:
    def __init__(self, client: Any, topic_arn: str):
        self.client = client
        self.topic_arn = topic_arn

    def publish(self, alert: dict[str, Any]) -> None:
        if not self.topic_arn:  # no topic configured (local runs without one): the log line stands in
            return
        subject = f"[Engage] {alert.get('title') or alert.get('kind', 'alert')}"[:SUBJECT_LIMIT]
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject="".join(ch if ch.isprintable() else " " for ch in subject),
            Message=json.dumps(alert, default=str, sort_keys=True),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": str(alert.get("kind", "alert"))}},
        )

"""Sending on moto: the real handlers, an always-open send window, and a fake WhatsApp over httpx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fakes.cloud_api import FakeGraph
from tests.helpers.sqs import drain

ALWAYS_OPEN = {
    "windows": {
        "weekday": [{"start": 0, "end": 24}],
        "middle_east": [{"start": 0, "end": 24}],
        "europe_americas": [{"start": 0, "end": 24}],
        "quiet_start": 24,
        "quiet_end": 0,
    },
    "throttle": {"campaign_rate_per_minute": 6000},
}


@dataclass
class Stack:
    aws: Any
    graph: FakeGraph
    sqs: Any
    context: Any

    def queue(self, logical: str) -> tuple[str, str]:
        url = self.aws.queues[logical]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def run_dispatcher(self) -> None:
        from functions.dispatcher import app

        drain(self.sqs, *self.queue("DispatchQueue"), app.lambda_handler, self.context)

    def run_sender(self) -> list[dict[str, Any]]:
        from functions.sender import app

        return drain(self.sqs, *self.queue("SendQueue"), app.lambda_handler, self.context)


@pytest.fixture
def stack(aws, lambda_context, monkeypatch, serialized_dynamodb) -> Stack:
    import boto3

    from engage import wiring
    from engage.adapters.whatsapp import WhatsAppClient
    from engage.core.settings import WhatsAppSettings

    graph = FakeGraph()
    client = WhatsAppClient(WhatsAppSettings.from_env(), http=httpx.Client(transport=httpx.MockTransport(graph)))
    monkeypatch.setattr(wiring.delivery, "whatsapp", lambda: client)
    wiring.delivery.config().put_sending(ALWAYS_OPEN)
    return Stack(aws, graph, boto3.client("sqs", region_name="eu-west-1"), lambda_context)

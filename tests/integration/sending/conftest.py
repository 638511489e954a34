"""Sending on moto: the real handlers, an always-open send window, and a fake WhatsApp over httpx."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

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
class FakeGraph:
    """Answers like the Cloud API; `fail` maps a recipient to an error code returned every time.

    `latency` makes each answer take that long; `peak` is the most requests that were in flight at once."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    latency: float = 0.0
    peak: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            return self.answer(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        to = body["to"]
        if to in self.fail:
            code = self.fail[to]
            return httpx.Response(400, json={"error": {"message": f"(#{code})", "code": code, "fbtrace_id": "T"}})
        self.sent.append(body)
        wamid = f"wamid.{next(self.ids)}"
        return httpx.Response(
            200,
            json={"contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid, "message_status": "accepted"}]},
        )


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

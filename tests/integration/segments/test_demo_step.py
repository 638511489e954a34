"""The segments demo step runs against the api handler (a stand-in for the local runtime's client)."""

from __future__ import annotations

import json
import random
from typing import Any

from engage.core.time import utcnow
from tests.helpers.events import http_event
from tests.helpers.segments import base_items, random_base


class Reply:
    def __init__(self, response: dict[str, Any]):
        self.status_code = response["statusCode"]
        self._body = json.loads(response["body"]) if response.get("body") else None

    def json(self) -> Any:
        return self._body

    def raise_for_status(self) -> None:
        assert self.status_code < 400, self._body


class Client:
    def __init__(self, context: Any):
        from functions.api import app

        self.app, self.context = app, context

    def post(self, path: str, json: Any = None, headers: Any = None) -> Reply:
        return Reply(self.app.lambda_handler(http_event("POST", path, body=json, groups="marketer"), self.context))

    def get(self, path: str, headers: Any = None) -> Reply:
        return Reply(self.app.lambda_handler(http_event("GET", path, groups="marketer"), self.context))


class Demo:
    def __init__(self, context: Any):
        self.client = Client(context)
        self.marketer: dict[str, str] = {}
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.append(text)


def test_demo_step_previews_and_saves_the_playbook_segment(aws, lambda_context):
    from engage import wiring
    from local.demo_steps import segments as step

    wiring.aws.table().batch_put(base_items(random_base(random.Random(3), 30, utcnow())))
    demo = Demo(lambda_context)
    step.run(demo)
    text = "\n".join(demo.lines)
    assert "preview 'tag:interest:cosmetics AND tag:stage:purchased AND NOT tag:product:lipstick'" in text
    assert "did you mean: interest:cosmetics" in text
    assert "saved segment seg_" in text
    step.run(demo)  # a second run finds the segment saved
    assert "saved already" in demo.lines[-1]

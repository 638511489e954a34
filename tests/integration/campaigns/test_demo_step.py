"""The demo step runs against the real handlers (a stand-in for the local runtime's `demo` object)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.helpers.events import http_event


class InProcessDemo:
    def __init__(self, stack: Any) -> None:
        from functions.api import app

        def route(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content) if request.content else None
            query = dict(request.url.params) or None
            event = http_event(request.method, request.url.path, body=body, groups="marketer", query=query)
            response = app.lambda_handler(event, stack.context)
            return httpx.Response(response["statusCode"], content=response["body"] or "")

        self.stack = stack
        self.client = httpx.Client(transport=httpx.MockTransport(route), base_url="http://local")
        self.marketer = self.admin = {"authorization": "Bearer local"}
        self.lines: list[str] = []
        self.webhooks: list[dict] = []

    def say(self, text: str) -> None:
        self.lines.append(text)

    def drain(self) -> None:
        self.stack.run_dispatcher()
        self.stack.run_sender()

    def schedule(self, name: str, now_iso: str) -> None:
        from functions.scheduler import app

        app.lambda_handler({"schedule": name, "now": now_iso}, self.stack.context)

    def outbox(self) -> list[dict]:
        return [
            {"to": m["to"], "type": m["type"], "wamid": f"wamid.{i}", "body": m}
            for i, m in enumerate(self.stack.graph.sent)
        ]

    def post_webhook(self, body: dict) -> None:
        self.webhooks.append(body)  # the webhook function is another area's; recorded only


def test_the_sending_demo_step_runs_an_ab_campaign(stack):
    from engage import wiring
    from engage.core.time import iso, utcnow
    from local.demo_steps import sending
    from tests.integration.campaigns.test_campaign_flow import audience

    for customer_id in audience(40, without_consent=4):
        wiring.tagging.memberships().add(customer_id, "value:vip", since=iso(utcnow()), source="import")
    wiring.tagging.memberships().add("c_none", "value:vip", since=iso(utcnow()), source="import")
    demo = InProcessDemo(stack)
    saved = demo.client.post("/v1/segments", headers=demo.marketer, json={"name": "VIPs", "rule": "tag:value:vip"})
    assert saved.status_code == 201, saved.text
    sending.run(demo)
    text = "\n".join(demo.lines)
    assert "campaign cmp_" in text and "A/B: winner" in text, text
    assert "refused:no_consent" in text and "sent" in text
    assert demo.webhooks and len(stack.graph.sent) == 36

"""A status notification, most of the webhook's traffic, loads none of the models and steps of what a
customer sends (docs/webhook.md "Cold start"); the first message loads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Loaded for messages, preferences and group or tag work only.
SENDER_PATH = {
    "engage.inbound.sender_payloads",
    "engage.inbound.messages",
    "engage.inbound.preferences",
    "engage.inbound.identity",
    "engage.inbound.groups",
    "engage.groups.webhooks",
    "engage.tagging.catalog",
    "engage.delivery.jobs",
}

# A fresh interpreter: what the webhook's module, its wiring and two POSTs load, in that order.
SCRIPT = """
import json, sys
from datetime import UTC, datetime
import functions.webhook.app, engage.wiring.inbound
from engage.inbound.receive import receive
from tests.fakes.inbound import World

def post(name):
    with open(f"events/whatsapp/{name}.json", "rb") as body:
        report = receive(body.read(), now=datetime.now(UTC), ports=World().ports)
    return {"report": vars(report), "modules": sorted(m for m in sys.modules if m.startswith("engage."))}

print(json.dumps({"status": post("status_delivered"), "text": post("inbound_text")}))
"""


def test_a_status_loads_no_message_model_or_step_and_a_message_loads_them():
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "eu-west-1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    posts = json.loads(out.stdout.strip().splitlines()[-1])
    status, text = posts["status"], posts["text"]
    assert status["report"]["unmatched_statuses"] == 1 and status["report"]["rejected"] == 0
    assert SENDER_PATH.isdisjoint(status["modules"])
    assert text["report"]["messages"] == 1
    assert {"engage.inbound.sender_payloads", "engage.inbound.messages"} <= set(text["modules"])

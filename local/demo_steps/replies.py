"""Replies: an answer to the campaign is attributed to its send; STOP opts a customer out for good."""

from __future__ import annotations

from typing import Any

from local.demo_steps.webhook import CUSTOMERS, profile


def campaign_messages(demo: Any) -> list[dict[str, Any]]:
    return [m for m in demo.outbox() if m.get("type") == "template"]


def run(demo: Any) -> None:
    sent = campaign_messages(demo)
    if not sent:
        demo.say("  (no campaign messages in the outbox: nothing to reply to)")
        return
    first = sent[0]
    name = next((n for w, n, _ in CUSTOMERS if w == first["to"]), "")
    reply = demo.inbound_text(first["to"], "Love it, do you have it in blue?", name=name, context_id=first["wamid"])
    demo.post_webhook(reply)
    stopper = next((m for m in sent if m["to"] != first["to"]), None)
    if stopper:
        stop_name = next((n for w, n, _ in CUSTOMERS if w == stopper["to"]), "")
        demo.post_webhook(demo.inbound_text(stopper["to"], "STOP", name=stop_name, context_id=stopper["wamid"]))
    demo.drain()
    demo.say(f"  {name} replied to {first['wamid'][:24]}...: attributed to that send (context.id)")
    if stopper:
        p = profile(demo, stopper["to"])
        demo.say(f"  {p['name']} sent STOP: marketing consent {p['consent']['marketing']} "
                 f"(source {p['consent'].get('source')}); the campaign counts an opt-out")  # fmt: skip
        last = [m for m in demo.outbox() if m["to"] == stopper["to"]][-1]
        demo.say(f"  confirmation sent to them: {last.get('text')!r}")

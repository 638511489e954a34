"""Demo step: an A/B campaign to a segment, with its deferrals, refusals, sends and statuses.

Run by the local demo (`python -m local.demo`) with `demo` offering client, marketer headers,
post_webhook, drain, schedule, outbox and say.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from engage.delivery.config import SendingConfig

TEMPLATE = {
    "name": "demo_winter_offer",
    "language": "en",
    "category": "marketing",
    "body": "Hi {{1}}, your winter picks are here.\nUse code {{2}} for 20% off today.\nTap Shop now to get yours.",
    "buttons": [
        {"type": "url", "text": "Shop now", "url": "https://shop.example/r/{{1}}"},
        {"type": "quick_reply", "text": "Stop promotions", "opt_out": True},
    ],
}


def audience(demo: Any) -> dict[str, Any]:
    """A saved segment if the demo has one, else the busiest tag."""
    segments = demo.client.get("/v1/segments", headers=demo.marketer)
    if segments.status_code == 200:
        found = segments.json().get("segments") or []
        if found:
            return {"segment_id": found[0]["id"]}
    tags = demo.client.get("/v1/tags", headers=demo.marketer)
    names = [t["name"] for t in (tags.json().get("tags", []) if tags.status_code == 200 else [])]
    return {"rule": {"tag": names[0] if names else "vip"}}


def callback_of(message: dict[str, Any]) -> str:
    """biz_opaque_callback_data of an outbox message, wherever the fake kept it."""
    body = message.get("body")
    found = body.get("biz_opaque_callback_data") if isinstance(body, dict) else None
    return str(found or message.get("biz_opaque_callback_data") or "")


def status_webhook(message: dict[str, Any], status: str, at: datetime | None = None) -> dict[str, Any]:
    when = int(at.timestamp() if at else time.time())
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "demo-waba", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111",
                         "phone_number_id": message.get("phone_number_id", "1234567890")},
            "statuses": [{"id": message["wamid"], "status": status, "timestamp": str(when),
                          "recipient_id": message["to"],
                          "biz_opaque_callback_data": callback_of(message)}],
        }}]}],
    }  # fmt: skip


def show(demo: Any, campaign_id: str, label: str) -> dict[str, Any]:
    campaign = demo.client.get(f"/v1/campaigns/{campaign_id}", headers=demo.marketer).json()
    progress = ", ".join(f"{k} {v}" for k, v in sorted(campaign.get("progress", {}).items()))
    demo.say(f"{label}: {campaign['status']} | {progress or 'nothing yet'}")
    return campaign


def run(demo: Any) -> None:
    demo.say("Sending: a template, an A/B campaign to a segment, throttled, within every rule")
    saved = demo.client.post("/v1/templates", headers=demo.marketer, json=TEMPLATE).json()
    demo.say(f"template {saved['name']} saved; lint: {saved.get('warnings') or 'clean'}")
    button = [{"index": 0, "value": "{{link}}"}]
    variants = [
        {"name": "A", "template": TEMPLATE["name"], "body": ["{{name}}", "{{coupon}}"], "buttons": button},
        {"name": "B", "template": TEMPLATE["name"], "body": ["{{first_name}}", "{{coupon}}"], "buttons": button},
    ]
    body = {"name": "Winter offer", **audience(demo), "variants": variants, "coupon_code": "WINTER20",
            "link": "https://shop.example/winter", "fallbacks": {"name": "there", "first_name": "there"},
            "rate_per_minute": 600, "ab": {"sample_fraction": 0.5, "window_minutes": 60}}  # fmt: skip
    created = demo.client.post("/v1/campaigns", headers=demo.marketer, json=body)
    campaign = created.json()
    if created.status_code != 201:
        demo.say(f"campaign not created: {campaign}")
        return
    demo.say(f"campaign {campaign['id']} created; warnings: {campaign.get('warnings') or 'none'}")
    # The story runs in a send window whatever the time of day: tomorrow 10:30 UTC is 11:30 in Berlin,
    # Madrid and Paris and 10:30 on the Canaries and in London, inside every customer's 10-12 window.
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    at(demo, start)
    demo.say(f"clock set to {stamp(start)}: inside every customer's send window")
    demo.client.post(f"/v1/campaigns/{campaign['id']}/launch", headers=demo.marketer)
    demo.drain()
    show(demo, campaign["id"], "after the A/B test sample")
    sent = [m for m in demo.outbox() if callback_of(m).endswith("|" + campaign["id"])]
    for i, message in enumerate(sent):  # half the sample reads the message: statuses come back by webhook
        demo.post_webhook(status_webhook(message, "delivered", start + timedelta(minutes=1)))
        if i % 2 == 0:
            demo.post_webhook(status_webhook(message, "read", start + timedelta(minutes=2)))
    demo.drain()
    window_end = start + timedelta(minutes=61)
    at(demo, window_end)
    demo.schedule("campaign-tick", stamp(window_end))
    demo.drain()
    waiting = show(demo, campaign["id"], "after the A/B window")
    ab = SendingConfig().ab  # the defaults: the demo stores no sending config of its own
    needed, wait = ab.min_delivered_per_variant, ab.evidence_wait_hours
    if not waiting.get("winner"):
        demo.say(f"A/B: no winner yet: each variant needs {needed} delivered sends, this small list's "
                 f"test sample had {len(sent)}; the test waits up to {wait:g} h for evidence")  # fmt: skip
    deadline = window_end + timedelta(hours=float(wait))
    at(demo, deadline)
    demo.schedule("campaign-tick", stamp(deadline))
    demo.drain()
    decided = show(demo, campaign["id"], f"after the evidence wait ({stamp(deadline)}, quiet hours in Europe)")
    result = decided.get("ab_result") or {}
    demo.say(f"A/B: winner {decided.get('winner')} ({result.get('why', 'not decided yet')})")
    # Deferred sends wait for the customers' next send window: move the clock to the next morning.
    morning = (deadline + timedelta(days=1)).replace(hour=10, minute=30, second=0)
    at(demo, morning)
    demo.schedule("release-deferred", stamp(morning))
    demo.drain()
    show(demo, campaign["id"], f"after deferred sends were released ({stamp(morning)})")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(demo: Any, moment: datetime) -> None:
    if hasattr(demo, "set_clock"):
        demo.set_clock(stamp(moment))

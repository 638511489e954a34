"""Journeys: the abandoned-cart reminder, sent an hour after the cart, ended by the order it brought.

The seven default journeys ship disabled; the first minute sweep installs them. Here the shop turns
on `abandoned-cart`: a customer leaves a cart, the journey waits an hour for an order, sends one
reminder through the sender (every sending rule applies), and the order that follows ends the run
as a conversion with its revenue.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CLOCK = datetime.fromisoformat("2026-12-03T09:00:00+00:00")  # a Thursday, 10:00 in Berlin: a send window
WA_ID = "4915166600001"
BERLIN = ZoneInfo("Europe/Berlin")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def reminders(demo: Any) -> list[dict[str, Any]]:
    return [m for m in demo.outbox() if m["to"].lstrip("+") == WA_ID and "cart_reminder" in json.dumps(m["body"])]


def run(demo: Any) -> None:
    if not (demo.has_function("SenderFunction") and demo.has_function("SchedulerFunction")):
        demo.say("  (skipped: the sender and the scheduler are needed)")
        return
    demo.set_clock(iso(CLOCK))
    demo.schedule("journey-sweep", iso(CLOCK))  # installs the defaults, disabled
    listed = demo.client.get("/v1/journeys", headers=demo.marketer).json()["journeys"]
    demo.say(f"Default journeys: {', '.join(j['id'] + (' (on)' if j['enabled'] else '') for j in listed)}")
    enabled = demo.client.post("/v1/journeys/abandoned-cart/enable", headers=demo.marketer)
    demo.expect(enabled.status_code == 200, f"enable answered {enabled.status_code}: {enabled.text}")
    demo.say("  the shop turns on 'abandoned-cart'")

    item = {"product": "Linen shirt", "category": "shirts", "price": 59.0, "quantity": 1}
    cart = {"cart_id": "J-1", "items": [item], "total": 59.0, "currency": "EUR"}
    demo.shop_event(WA_ID, "demo-journey-cart-1", "cart_abandoned", CLOCK, cart)
    consent = demo.client.put(f"/v1/customers/{WA_ID}/consent", json={"marketing": True}, headers=demo.marketer)
    demo.expect(consent.status_code == 200, f"consent answered {consent.status_code}: {consent.text}")
    demo.drain()
    demo.say("  10:00 a cart of 59.00 EUR is left; the journey waits an hour for an order")

    for minutes in (30, 60, 61):  # the scheduler sweeps due runs every minute
        now = CLOCK + timedelta(minutes=minutes)
        demo.set_clock(iso(now))
        demo.schedule("journey-sweep", iso(now))
        demo.drain()
        demo.say(f"  {now.astimezone(BERLIN):%H:%M} sweep: {len(reminders(demo))} reminder(s) sent")
    demo.expect(len(reminders(demo)) == 1, "one cart reminder should have gone out after the hour")

    ordered = CLOCK + timedelta(hours=3)
    demo.set_clock(iso(ordered))
    order = {"order_id": "J-1", "items": [item], "total": 59.0, "currency": "EUR"}
    demo.shop_event(WA_ID, "demo-journey-order-1", "order_placed", ordered, order)
    demo.drain()
    stats = demo.client.get("/v1/journeys/abandoned-cart/stats", headers=demo.marketer).json()
    demo.say(
        f"  13:00 they order: entered {stats['entered']}, sent {stats['sent']}, converted {stats['converted']}, "
        f"revenue {stats['revenue']:.2f}"
    )
    demo.expect(stats["converted"] == 1 and stats["sent"] == 1, f"the run should have converted: {stats}")
    history = demo.client.get(f"/v1/customers/{WA_ID}/history", headers=demo.marketer).json()
    kinds = [entry.get("kind") for entry in history.get("items", history.get("entries", []))]
    demo.say(f"  in the customer's history: {', '.join(k for k in kinds if k and k.startswith('journey'))}")
    demo.set_clock(None)

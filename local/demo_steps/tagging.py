"""Demo step: customers acquire and lose tags from messages, clicks, orders and 90 simulated days.

`run(demo)` drives the local runtime over HTTP (demo.client, demo.marketer, demo.secrets,
demo.post_webhook, demo.drain, demo.schedule, demo.say). Shop events are HMAC-signed as the shop
signs them: `/v1/events` has no JWT authorizer, in AWS as in the local runtime.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

WA_ID = "34612345678"
USER_ID = "ES.1000000000000000042"
# The story starts 3 days ago; the nightly passes then simulate the next 90 days with an injected clock.
START = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def inbound_text(text: str, wamid: str, when: datetime) -> dict[str, Any]:
    """A WhatsApp `messages` webhook carrying one text from our demo customer."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": "Lucía"}, "wa_id": WA_ID, "user_id": USER_ID}],
        "messages": [
            {"from": WA_ID, "from_user_id": USER_ID, "id": wamid, "timestamp": str(int(when.timestamp())),
             "type": "text", "text": {"body": text}}
        ],
    }  # fmt: skip
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def show_tags(demo: Any, when: str) -> None:
    customer = demo.client.get(f"/v1/customers/{WA_ID}", headers=demo.marketer).json()
    tags = ", ".join(t["name"] for t in customer.get("tags", [])) or "(none)"
    demo.say(f"  {when}: {tags}")


def run(demo: Any) -> None:
    catalog = demo.client.get("/v1/tags", headers=demo.marketer).json()
    rules = demo.client.get("/v1/rules", headers=demo.marketer).json()
    demo.say(f"Tagging: {catalog['count']} starter tags and {rules['count']} default rules installed")

    demo.post_webhook(
        inbound_text("Hola, ¿tienen algún descuento? ¿Cuánto cuesta el pañuelo?", "wamid.demo.tag.1", at(0))
    )
    demo.drain()
    show_tags(demo, "after 'descuento' and 'cuánto cuesta' in a message")

    item = {"product": "Silk scarf", "category": "accessories", "price": 49.9, "quantity": 1}
    new_in = {"url": "https://shop.example/new", "label": "Novedades"}
    demo.shop_event(WA_ID, "demo-click-1", "link_clicked", at(0.1), new_in)
    scarf = {"url": "https://shop.example/p/scarf", "label": "Silk scarf"}
    demo.shop_event(WA_ID, "demo-click-2", "link_clicked", at(1), scarf)
    demo.shop_event(WA_ID, "demo-cart-1", "cart_abandoned", at(1.1), {"cart_id": "c1", "items": [item], "total": 49.9})
    demo.drain()
    show_tags(demo, "after two clicks (one on 'Novedades') and an abandoned cart")

    order = {"order_id": "D-1", "items": [item], "total": 49.9, "currency": "EUR", "coupon": "BIENVENIDA"}
    demo.shop_event(WA_ID, "demo-order-1", "order_placed", at(2), order)
    demo.drain()
    show_tags(demo, "after the order (cart and intent gone, bought and purchased added)")

    for day in (3, 10, 33, 95):
        demo.schedule("lifecycle-pass", iso(at(day) - timedelta(hours=7)))
        demo.drain()
        show_tags(demo, f"nightly pass, day {day}")

    params = {"customer": WA_ID, "since": iso(at(-1)), "until": iso(at(96)), "limit": 8}
    log = demo.client.get("/v1/tags/log", params=params, headers=demo.marketer).json()
    demo.say("  latest changes: " + "; ".join(f"{e['change']} {e['tag']} ({e['by']})" for e in log["entries"]))

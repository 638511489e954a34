"""Webhook: customers write in, opt in with START, and one later stops promotions with STOP."""

from __future__ import annotations

from typing import Any

# Customers of the story: they write in and opt in to promotions (the campaign's audience later).
CUSTOMERS = [
    ("4915112340001", "Lena Vogel", "Hallo! Gibt es Neuheiten?"),
    ("34612340002", "Lucía Gómez", "Hola, ¿tenéis novedades?"),
    ("447700900003", "Oliver Smith", "Hi, any new arrivals this week?"),
    ("33612340004", "Chloé Martin", "Bonjour, des nouveautés ?"),
    ("4915112340005", "Jonas Weber", "Hallo, was ist neu?"),
    ("447700900006", "Amelia Jones", "Hello! What's new?"),
]


def profile(demo: Any, wa_id: str) -> dict[str, Any]:
    response = demo.client.get(f"/v1/customers/{wa_id}", headers=demo.marketer)
    demo.expect(response.status_code == 200, f"GET /v1/customers/{wa_id} answered {response.status_code}")
    return dict(response.json())


def run(demo: Any) -> None:
    if not demo.has_function("WebhookFunction"):
        demo.say("  (skipped: the webhook function is not loaded)")
        return
    for wa_id, name, text in CUSTOMERS:
        demo.expect(demo.post_webhook(demo.inbound_text(wa_id, text, name=name)).status_code == 200, "webhook refused")
        demo.expect(demo.post_webhook(demo.inbound_text(wa_id, "START", name=name)).status_code == 200, "refused")
    duplicate = demo.inbound_text(CUSTOMERS[0][0], "Hallo! Gibt es Neuheiten?", name=CUSTOMERS[0][1])
    demo.post_webhook(duplicate)
    demo.post_webhook(duplicate)  # Meta retries: the same notification again changes nothing
    demo.drain()
    for wa_id, _, _ in CUSTOMERS:
        p = profile(demo, wa_id)
        demo.say(f"  {p['name']:<14} {wa_id:<14} {p['country'] or '-'}  {p['timezone'] or '-':<16} "
                 f"marketing consent: {p['consent']['marketing']}")  # fmt: skip
    confirmations = [m for m in demo.outbox() if "START" not in str(m.get("text", "")) and m.get("type") == "text"]
    demo.say(f"  each START got a confirmation (utility, inside the service window): {len(confirmations)} sent")

"""Foundation: a customer writes in, a message goes out through the fake WhatsApp, its statuses come back."""

from __future__ import annotations

from typing import Any

WA_ID = "4915112345678"
USER_ID = "DE.1000000000000000042"


def run(demo: Any) -> None:
    demo.say("A customer writes to the shop on WhatsApp (a signed webhook to POST /webhook).")
    if demo.has_function("WebhookFunction"):
        response = demo.post_webhook(demo.inbound_text(WA_ID, "Hallo! Habt ihr Rabatt?", user_id=USER_ID, name="Asha"))
        demo.expect(response.status_code == 200, f"the webhook answered {response.status_code}: {response.text}")
        demo.drain()
        customer = demo.client.get(f"/v1/customers/{WA_ID}", headers=demo.marketer)
        demo.expect(customer.status_code == 200, f"GET /v1/customers/{WA_ID} answered {customer.status_code}")
        profile = customer.json()
        demo.say(
            f"  customer {profile['id']}: wa_id={profile['wa_id']} user_id={profile['user_id']} name={profile['name']}"
        )
    else:
        demo.say("  (skipped: functions/webhook/app.py is not written yet)")

    demo.say("The shop answers through the WhatsApp Cloud API (the runtime's fake answers like Graph).")
    demo.whatsapp_faults({"code": 130429, "count": 1})
    limited = demo.whatsapp_send(demo.text(WA_ID, "Hi Asha, 10% off today with code HALLO10."))
    error = limited.json()["error"]
    demo.say(f"  first try: HTTP {limited.status_code} {error['message']} (an injected fault)")
    sent = demo.whatsapp_send(demo.text(WA_ID, "Hi Asha, 10% off today with code HALLO10.", callback="demo|welcome"))
    demo.expect(sent.status_code == 200, f"the fake WhatsApp answered {sent.status_code}: {sent.text}")
    wamid = sent.json()["messages"][0]["id"]
    demo.say(f"  retry: accepted as {wamid[:28]}...")

    report = demo.drain()
    demo.say(
        f"Statuses come back as signed webhooks: {report['whatsapp_webhooks']['delivered']} delivered to /webhook."
    )
    for message in demo.outbox():
        statuses = " -> ".join(message["statuses"]) or "(none recorded)"
        demo.say(f"  outbox: to {message['to']} [{message['type']}] {message['text']!r}: {statuses}")

"""A retargeting round through the real API, webhook, scheduler, dispatcher and sender on moto."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers.whatsapp import signed_webhook_event, status, statuses
from tests.integration.campaigns.test_campaign_flow import audience, call, launched


def read_by(customer_id: str, campaign_id: str, wamid: str, wa_id: str, context) -> None:
    """WhatsApp's `read` status for one send, through the webhook."""
    from functions.webhook import app as webhook

    body = statuses(status(wamid, "read", callback=f"{customer_id}|{campaign_id}", recipient=wa_id))
    assert webhook.lambda_handler(signed_webhook_event(body), context)["statusCode"] == 200


def test_a_not_read_round_reaches_only_those_who_did_not_read_once_24_hours_have_passed(stack):
    from engage import wiring
    from engage.core.time import iso, utcnow
    from functions.scheduler import app as scheduler

    ids = audience(3)
    campaign_id = launched(stack, content="useful")
    stack.run_dispatcher()
    stack.run_sender()
    sends = {i.customer_id: i for i in wiring.delivery.sends().of_campaign(campaign_id)}
    read_by(ids[0], campaign_id, sends[ids[0]].wamid or "", sends[ids[0]].wa_id or "", stack.context)
    first_sent = len(stack.graph.sent)

    status_, planned = call(
        "POST", f"/v1/campaigns/{campaign_id}/retarget", stack.context, {"audience": "not_read", "after_hours": 24}
    )
    assert status_ == 201 and planned["status"] == "draft" and planned["round"] == 1, planned
    assert planned["follow_up_of"] == campaign_id and planned["retarget"]["audience"] == "not_read"
    again, refused = call("POST", f"/v1/campaigns/{campaign_id}/retarget", stack.context, {"audience": "not_read"})
    assert again == 409 and refused["error"]["code"] == "follow_up_exists"
    too_soon, invalid = call(
        "POST", f"/v1/campaigns/{planned['id']}/retarget", stack.context, {"audience": "not_read", "after_hours": 2}
    )
    assert too_soon == 422 and "after_hours" in invalid["error"]["message"]
    status_, scheduled = call("POST", f"/v1/campaigns/{planned['id']}/launch", stack.context)
    assert (status_, scheduled["status"]) == (200, "scheduled")

    for hours in (1, 80):  # the source completes first; the round starts once 24 h have passed
        scheduler.lambda_handler(
            {"schedule": "campaign-tick", "now": iso(utcnow() + timedelta(hours=hours))}, stack.context
        )
    status_, started = call("GET", f"/v1/campaigns/{planned['id']}", stack.context)
    assert started["status"] == "running" and started["audience_count"] == 2, started
    stack.run_dispatcher()
    stack.run_sender()
    stack.run_sender()
    round_sends = list(wiring.delivery.sends().of_campaign(planned["id"]))
    assert sorted(i.customer_id for i in round_sends) == sorted(ids[1:])
    # The sender's clock is the real one here, minutes after the first send: the weekly cap on useful
    # content holds the round back, as it would any campaign.
    assert {(i.state, i.reason) for i in round_sends} == {("refused", "cap:useful")}
    assert stack.graph.sent[first_sent:] == []

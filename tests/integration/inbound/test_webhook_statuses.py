"""Delivery statuses through the webhook handler on moto: one conditional update, forward only."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.conftest import load_event
from tests.helpers.whatsapp import T0, signed_webhook_event, status, statuses, wa_error

CID = "c_0123456789abcdef0123456789abcdef"
SENT = "wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABEYEjA1QkYyNkNBTVBBSUdOMDAxAA=="


def table(aws):
    return boto3.resource("dynamodb").Table(aws.table_name)


@pytest.fixture
def send(aws):
    """Asha (known, opted in) and the campaign send the sample statuses belong to."""
    from engage import wiring
    from engage.customers.profiles import Consent, Customer

    wiring.customers.repository().create(
        Customer(
            id=CID,
            wa_id="4915123456789",
            user_id="DE.1000000000000000001",
            consent=Consent(marketing=True, updated_at="2026-11-01T00:00:00Z", source="import"),
        )
    )
    item = {
        "pk": f"CUST#{CID}",
        "sk": "SEND#camp_bf26",
        "gsi1pk": "CAMP#camp_bf26",
        "gsi1sk": f"CUST#{CID}",
        "type": "send",
        "customer_id": CID,
        "send_key": "camp_bf26",
        "campaign_id": "camp_bf26",
        "category": "marketing",
        "state": "sent",
        "wamid": SENT,
        "status": "accepted",
        "status_rank": 0,
    }
    table(aws).put_item(Item=item)
    table(aws).put_item(Item={"pk": f"WAMID#{SENT}", "sk": "SEND", "customer_id": CID, "send_key": "camp_bf26"})
    return lambda: table(aws).get_item(Key={"pk": f"CUST#{CID}", "sk": "SEND#camp_bf26"})["Item"]


def profile(aws) -> dict:
    return table(aws).get_item(Key={"pk": f"CUST#{CID}", "sk": "PROFILE"})["Item"]


def handle(event, context) -> dict:
    from functions.webhook import app

    response = app.lambda_handler(event, context)
    assert response["statusCode"] == 200
    return json.loads(response["body"])


def test_sent_delivered_read_move_the_send_forward_with_their_times_and_pricing(aws, lambda_context, send):
    for name in ("status_sent", "status_delivered", "status_read"):
        handle(load_event(f"webhook/{name}"), lambda_context)
    item = send()
    assert (item["status"], item["status_rank"]) == ("read", 3)
    assert item["sent_at"] == "2026-11-23T09:50:00Z" and item["delivered_at"] == "2026-11-23T09:50:10Z"
    assert item["read_at"] == "2026-11-23T09:55:00Z"
    assert (item["pricing_category"], item["pricing_model"], item["billable"]) == ("marketing", "PMP", True)


def test_statuses_out_of_order_never_move_back_and_read_implies_delivered(aws, lambda_context, send):
    read = handle(load_event("webhook/status_read"), lambda_context)
    delivered = handle(load_event("webhook/status_delivered"), lambda_context)
    sent = handle(load_event("webhook/status_sent"), lambda_context)
    item = send()
    assert read["statuses"] == 1 and delivered["stale_statuses"] == 1 and sent["stale_statuses"] == 1
    assert item["status"] == "read" and item["delivered_at"] == item["read_at"] == "2026-11-23T09:55:00Z"


def test_a_duplicate_status_changes_nothing(aws, lambda_context, send):
    handle(load_event("webhook/status_delivered"), lambda_context)
    before = send()
    assert handle(load_event("webhook/status_delivered"), lambda_context)["stale_statuses"] == 1
    assert send() == before


def test_the_batch_sample_applies_all_three_statuses_in_one_post(aws, lambda_context, send):
    report = handle(load_event("webhook/batch"), lambda_context)
    assert report["statuses"] == 3 and report["messages"] == 4
    assert send()["status"] == "read"


def test_failed_is_terminal_with_code_and_title_and_131026_marks_undeliverable(aws, lambda_context, send):
    handle(load_event("webhook/status_failed"), lambda_context)
    handle(load_event("webhook/status_read"), lambda_context)
    item = send()
    assert (item["status"], item["error_code"], item["error_title"]) == ("failed", 131026, "Message undeliverable")
    assert item["failed_at"] == "2026-11-23T09:50:05Z"
    assert profile(aws)["undeliverable"] is True


def test_131050_records_a_marketing_opt_out(aws, lambda_context, send):
    handle(load_event("webhook/status_failed_stopped_marketing"), lambda_context)
    consent = profile(aws)["consent"]
    assert consent == {"marketing": False, "updated_at": "2026-11-23T09:50:05Z", "source": "whatsapp:131050"}


def test_a_status_without_callback_data_finds_its_send_through_the_wamid_pointer(aws, lambda_context, send):
    assert handle(load_event("webhook/status_without_callback"), lambda_context)["statuses"] == 1
    assert send()["status"] == "delivered"


def test_a_status_for_an_unknown_send_is_kept_for_inspection(aws, lambda_context, send):
    body = statuses(status("wamid.elsewhere", "delivered"), status("wamid.x", "read", callback="c_" + "a" * 32 + "|k"))
    report = handle(signed_webhook_event(body), lambda_context)
    assert report["unmatched_statuses"] == 2
    kept = table(aws).query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "WEBHOOK#UNMATCHED_STATUS"}
    )
    assert sorted(i["sk"] for i in kept["Items"]) == ["wamid.elsewhere#delivered", "wamid.x#read"]


def test_a_status_costs_one_dynamodb_write(aws, lambda_context, send):
    from bench.common import AwsRequestCounter
    from engage import wiring

    counter = AwsRequestCounter()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)  # type: ignore[union-attr]
    wiring.reset()
    try:
        body = statuses(status(SENT, "delivered", ts=T0, callback=f"{CID}|camp_bf26", errors=None))
        handle(signed_webhook_event(body), lambda_context)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.*.*", counter)  # type: ignore[union-attr]
    assert counter.calls["dynamodb.UpdateItem"] == 1 and counter.total("dynamodb") == 2  # + the config read


def test_errors_on_statuses_are_kept_on_the_send(aws, lambda_context, send):
    body = statuses(status(SENT, "failed", callback=f"{CID}|camp_bf26", errors=[wa_error(131049, "Healthy ecosystem")]))
    handle(signed_webhook_event(body), lambda_context)
    assert send()["error_code"] == 131049
    assert profile(aws)["consent"]["marketing"] is True


def test_a_failed_status_after_read_leaves_the_send_read(aws, lambda_context, send):
    # Given a send the customer has read
    handle(load_event("webhook/status_read"), lambda_context)
    # When WhatsApp reports it failed afterwards
    body = statuses(status(SENT, "failed", callback=f"{CID}|camp_bf26", errors=[wa_error(131000, "Something")]))
    report = handle(signed_webhook_event(body), lambda_context)
    # Then the conditional update refuses it: the send stays read, with no failure on it
    item = send()
    assert report["stale_statuses"] == 1
    assert item["status"] == "read" and "failed_at" not in item and "error_code" not in item

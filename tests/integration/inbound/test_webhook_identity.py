"""Who a notification is about, through the webhook handler on moto: no mixed-up people, no
placeholder customers, the Aug 2026 `previous_user_id`, and only this deployment's numbers."""

from __future__ import annotations

import json

import boto3
from boto3.dynamodb.conditions import Key

from tests.conftest import load_event
from tests.helpers.whatsapp import ASHA


def table(aws):
    return boto3.resource("dynamodb").Table(aws.table_name)


def handle(event, context) -> dict:
    from functions.webhook import app

    response = app.lambda_handler(event, context)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def find(*, wa_id: str | None = None, user_id: str | None = None) -> str | None:
    from engage import wiring

    return wiring.customers.repository().find_id(wa_id=wa_id, user_id=user_id)


def profile(aws, customer_id: str) -> dict:
    return table(aws).get_item(Key={"pk": f"CUST#{customer_id}", "sk": "PROFILE"})["Item"]


def kept(aws, reason: str) -> list[dict]:
    items = table(aws).query(KeyConditionExpression=Key("pk").eq(f"WEBHOOK#{reason}"))["Items"]
    return [json.loads(i["content"]) for i in items]


def customers(aws) -> list[dict]:
    return [i for i in table(aws).scan()["Items"] if i["sk"] == "PROFILE"]


def test_a_preference_beside_another_persons_contact_does_not_take_that_persons_user_id(aws, lambda_context):
    # Given a stop for Asha's number (no user id) whose notification carries Ben's contact block
    report = handle(load_event("webhook/user_preferences_other_contact"), lambda_context)

    # Then Asha's consent is recorded, and she does not get Ben's BSUID (nor his name)
    assert report["preferences"] == 1
    asha = profile(aws, find(wa_id=ASHA["wa_id"]))
    assert asha["consent"]["marketing"] is False
    assert "user_id" not in asha and asha.get("name") != "Ben"
    assert find(user_id="DE.1000000000000000002") is None


def test_a_placeholder_sender_creates_no_customer_and_is_kept_as_rejected(aws, lambda_context):
    report = handle(load_event("webhook/placeholder_sender_text"), lambda_context)
    assert report["messages"] == 0 and report["rejected"] == 1
    assert customers(aws) == []
    [rejected] = kept(aws, "REJECTED")
    assert rejected["raw"]["from"] == "PHONE_NUMBER" and "E.164" in rejected["reason"]


def test_a_number_change_to_a_placeholder_moves_no_identity(aws, lambda_context):
    # Given Asha is a customer
    handle(load_event("webhook/inbound_text"), lambda_context)
    asha_id = find(wa_id=ASHA["wa_id"])

    # When a user_changed_number names NEW_PHONE_NUMBER as her new number
    report = handle(load_event("webhook/system_user_changed_number_placeholder"), lambda_context)

    # Then nothing moved, and the notification is kept as rejected
    assert report["rejected"] == 1 and report["messages"] == 0
    assert find(wa_id=ASHA["wa_id"]) == asha_id and find(wa_id="NEW_PHONE_NUMBER") is None
    assert profile(aws, asha_id)["wa_id"] == ASHA["wa_id"]
    assert "NEW_PHONE_NUMBER" in kept(aws, "REJECTED")[0]["reason"]


def test_a_user_id_change_reads_previous_user_id(aws, lambda_context):
    # Given Asha is a customer under her first BSUID
    handle(load_event("webhook/inbound_text"), lambda_context)
    asha_id = find(user_id=ASHA["user_id"])

    # When the Aug 2026 system message comes from her new BSUID and names the old one in previous_user_id
    handle(load_event("webhook/system_user_changed_user_id_previous"), lambda_context)

    # Then the same customer now holds the new BSUID, and no second customer was created
    assert find(user_id="DE.1000000000000000055") == asha_id
    assert find(user_id=ASHA["user_id"]) is None
    assert profile(aws, asha_id)["user_id"] == "DE.1000000000000000055"
    assert len(customers(aws)) == 1


def test_a_notification_for_another_business_number_is_acknowledged_and_kept_not_processed(aws, lambda_context):
    report = handle(load_event("webhook/other_number_text"), lambda_context)
    assert report["other_number"] == 1 and report["messages"] == 0
    assert customers(aws) == []  # no customer, so no 24-hour window on the wrong number
    [change] = kept(aws, "OTHER_NUMBER")
    assert change["value"]["metadata"]["phone_number_id"] == "9876543210"


def test_more_numbers_of_the_deployment_are_processed_when_configured(aws, lambda_context, monkeypatch):
    from engage import wiring

    monkeypatch.setenv("ENGAGE_WEBHOOK_EXTRA_PHONE_NUMBER_IDS", "5555555555, 9876543210")
    wiring.reset()
    report = handle(load_event("webhook/other_number_text"), lambda_context)
    assert report["messages"] == 1 and report["other_number"] == 0

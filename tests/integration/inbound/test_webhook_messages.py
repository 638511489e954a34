"""Inbound messages through the webhook handler on moto: stored once, customers, consent, referrals."""

from __future__ import annotations

import json

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from tests.conftest import load_event
from tests.helpers.whatsapp import ASHA, SAMPLES, inbound, sample, signed_webhook_event, text

MESSAGE_SAMPLES = sorted(p.stem for p in SAMPLES.glob("inbound_*.json"))


def table(aws):
    return boto3.resource("dynamodb").Table(aws.table_name)


def all_items(aws) -> list[dict]:
    return sorted(table(aws).scan()["Items"], key=lambda i: (i["pk"], i["sk"]))


def handle(event, context) -> dict:
    from functions.webhook import app

    response = app.lambda_handler(event, context)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def customer(aws, *, wa_id: str | None = None, user_id: str | None = None) -> dict:
    from engage import wiring

    customer_id = wiring.customers.repository().find_id(wa_id=wa_id, user_id=user_id)
    assert customer_id
    item = table(aws).get_item(Key={"pk": f"CUST#{customer_id}", "sk": "PROFILE"})["Item"]
    return item


def history(aws, customer_id: str) -> list[dict]:
    query = table(aws).query(KeyConditionExpression=Key("pk").eq(f"CUST#{customer_id}") & Key("sk").begins_with("EVT#"))
    return query["Items"]


def queued(aws) -> list[dict]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=aws.queues["SendQueue"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


@pytest.mark.parametrize("name", MESSAGE_SAMPLES)
def test_every_message_type_is_stored_once_as_a_history_item(aws, lambda_context, name):
    body = sample(name)
    wamid = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    report = handle(load_event(f"webhook/{name}"), lambda_context)
    assert report["messages"] == 1
    [item] = [i for i in all_items(aws) if i["sk"].startswith("EVT#")]
    assert item["sk"].endswith(f"#message#{wamid}")
    assert item["type"] == "event" and item["kind"] == "message" and item["event_id"] == wamid
    assert item["data"]["type"] == body["entry"][0]["changes"][0]["value"]["messages"][0]["type"]


def test_the_same_post_twice_changes_nothing(aws, lambda_context):
    handle(load_event("webhook/batch"), lambda_context)
    before = all_items(aws)
    report = handle(load_event("webhook/batch"), lambda_context)
    assert report["messages"] == 0 and report["duplicates"] == 4
    assert all_items(aws) == before


def test_a_batch_stores_every_entry_and_message(aws, lambda_context):
    report = handle(load_event("webhook/batch"), lambda_context)
    assert report["messages"] == 4 and report["unmatched_statuses"] == 3
    asha = customer(aws, wa_id=ASHA["wa_id"])
    assert len(history(aws, asha["id"])) == 2
    assert asha["last_inbound_at"] == "2026-11-23T10:00:02Z" and asha["first_seen_at"] == "2026-11-23T10:00:01Z"
    assert customer(aws, user_id="US.1000000000000000002").get("wa_id") is None


def test_the_profile_gets_name_first_seen_last_inbound_and_last_interaction(aws, lambda_context):
    handle(load_event("webhook/inbound_text"), lambda_context)
    asha = customer(aws, user_id=ASHA["user_id"])
    assert asha["name"] == "Asha" and asha["wa_id"] == ASHA["wa_id"]
    assert asha["first_seen_at"] == asha["last_inbound_at"] == asha["last_interaction_at"] == "2026-11-23T10:00:00Z"
    assert asha["country"] == "DE" and asha["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("wa_id", "user_id", "lookup"),
    [
        ("", "US.1000000000000000002", {"user_id": "US.1000000000000000002"}),
        ("4915123456789", "", {"wa_id": "4915123456789"}),
        ("4915123456789", "DE.1000000000000000001", {"wa_id": "4915123456789"}),
    ],
)
def test_customers_are_found_by_whichever_identity_arrives(aws, lambda_context, wa_id, user_id, lookup):
    body = inbound(text("hello", wa_id=wa_id, user_id=user_id))
    handle(signed_webhook_event(body), lambda_context)
    found = customer(aws, **lookup)
    assert found.get("wa_id") == (wa_id or None) and found.get("user_id") == (user_id or None)
    assert not [i for i in all_items(aws) if i["pk"] in ("WAID#", "USERID#")]


def test_user_changed_number_and_user_id_move_the_identities(aws, lambda_context):
    handle(load_event("webhook/inbound_text"), lambda_context)
    asha_id = customer(aws, wa_id=ASHA["wa_id"])["id"]
    handle(load_event("webhook/system_user_changed_number"), lambda_context)
    moved = customer(aws, wa_id="4915199999999")
    assert moved["id"] == asha_id and moved["user_id"] == "DE.1000000000000000077"
    keys = {(i["pk"], i["sk"]) for i in all_items(aws)}
    assert ("WAID#4915123456789", "IDENTITY") not in keys
    assert ("USERID#DE.1000000000000000001", "IDENTITY") not in keys


def test_user_changed_user_id_moves_the_business_scoped_id(aws, lambda_context):
    handle(load_event("webhook/inbound_text"), lambda_context)
    asha_id = customer(aws, wa_id=ASHA["wa_id"])["id"]
    handle(load_event("webhook/system_user_changed_user_id"), lambda_context)
    assert customer(aws, user_id="DE.1000000000000000055")["id"] == asha_id
    assert customer(aws, wa_id=ASHA["wa_id"])["id"] == asha_id


@pytest.mark.parametrize(("word", "language"), [("STOP", "en"), ("stopp", "de"), ("Arrêter", "fr"), ("Стоп", "ru")])
def test_stop_keywords_opt_out_and_queue_a_utility_confirmation(aws, lambda_context, word, language):
    from engage.customers.consent import DEFAULT_CONFIRMATIONS

    handle(signed_webhook_event(inbound(text(word, wamid="wamid.stop"))), lambda_context)
    asha = customer(aws, wa_id=ASHA["wa_id"])
    assert asha["consent"]["marketing"] is False and asha["consent"]["source"] == "keyword"
    [job] = queued(aws)
    assert job["send_key"] == "tx:consent:wamid.stop" and job["category"] == "utility"
    assert job["message"] == {"kind": "text", "text": DEFAULT_CONFIRMATIONS["opt_out"][language]}


def test_start_opts_back_in_and_the_opt_out_button_opts_out(aws, lambda_context):
    handle(load_event("webhook/inbound_opt_out_button"), lambda_context)
    assert customer(aws, wa_id=ASHA["wa_id"])["consent"]["marketing"] is False
    handle(load_event("webhook/inbound_start"), lambda_context)
    assert customer(aws, wa_id=ASHA["wa_id"])["consent"]["marketing"] is True
    assert [j["reason"] for j in queued(aws)] == ["consent:opt_out", "consent:opt_in"]


def test_stored_config_changes_the_keywords(aws, lambda_context):
    table(aws).put_item(Item={"pk": "CONFIG", "sk": "webhook", "document": {"opt_out_keywords": {"sv": ["sluta"]}}})
    handle(signed_webhook_event(inbound(text("Sluta"))), lambda_context)
    assert customer(aws, wa_id=ASHA["wa_id"])["consent"]["marketing"] is False


def test_user_preferences_stop_then_resume(aws, lambda_context):
    handle(load_event("webhook/user_preferences_stop"), lambda_context)
    asha = customer(aws, wa_id=ASHA["wa_id"])
    assert asha["consent"] == {"marketing": False, "updated_at": "2026-11-23T10:00:00Z", "source": "user_preferences"}
    [event] = history(aws, asha["id"])
    assert event["kind"] == "consent" and event["data"]["value"] == "stop"
    handle(load_event("webhook/user_preferences_resume"), lambda_context)
    assert customer(aws, wa_id=ASHA["wa_id"])["consent"]["marketing"] is True


def test_a_click_to_whatsapp_ad_writes_the_source_tag_membership(aws, lambda_context):
    handle(load_event("webhook/inbound_referral"), lambda_context)
    asha_id = customer(aws, wa_id=ASHA["wa_id"])["id"]
    tag = table(aws).get_item(Key={"pk": f"CUST#{asha_id}", "sk": "TAG#source:ctwa-ad"})["Item"]
    assert tag["gsi1pk"] == "TAG#source:ctwa-ad" and tag["gsi1sk"] == f"CUST#{asha_id}"
    assert (tag["type"], tag["name"], tag["source"], tag["since"]) == (
        "tag",
        "source:ctwa-ad",
        "webhook",
        "2026-11-23T10:00:00Z",
    )
    [logged] = [i for i in all_items(aws) if i["pk"] == f"CUST#{asha_id}" and i["sk"].startswith("TAGLOG#")]
    assert (logged["tag"], logged["change"], logged["by"]) == ("source:ctwa-ad", "added", "webhook")
    handle(load_event("webhook/inbound_referral"), lambda_context)  # Meta's redelivery: logged once
    assert len([i for i in all_items(aws) if i["sk"].startswith("TAGLOG#")]) == 1


def test_a_first_message_with_a_referral_code_records_who_was_invited(aws, lambda_context):
    handle(load_event("webhook/inbound_referral_code"), lambda_context)
    jonas = customer(aws, wa_id="4915111122233")
    invite = table(aws).get_item(Key={"pk": "REFERRAL#ASHA2026", "sk": f"INVITEE#{jonas['id']}"})["Item"]
    assert invite["invitee_id"] == jonas["id"] and invite["invited_at"] == "2026-11-23T10:00:00Z"
    assert jonas["referred_by_code"] == "ASHA2026"


def test_a_known_customers_message_costs_at_most_two_dynamodb_writes(aws, lambda_context):
    from bench.common import AwsRequestCounter
    from engage import wiring

    handle(load_event("webhook/inbound_text"), lambda_context)
    counter = AwsRequestCounter()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)  # type: ignore[union-attr]
    wiring.reset()  # clients copy the session's event hooks when they are built
    try:
        handle(signed_webhook_event(inbound(text("again", wamid="wamid.2", ts=1795428100))), lambda_context)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.*.*", counter)  # type: ignore[union-attr]
    write_ops = ("PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem")
    writes = sum(n for key, n in counter.calls.items() if key.split(".")[1] in write_ops)
    assert writes == 2, counter.calls


def test_a_crash_before_the_confirmation_is_queued_is_made_good_by_the_redelivery(aws, lambda_context, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from engage.adapters.sqs import SqsQueue
    from functions.webhook import app

    event = signed_webhook_event(inbound(text("STOP", wamid="wamid.stop")))
    send = SqsQueue.send

    def dies(self, *args, **kwargs):
        raise EndpointConnectionError(endpoint_url="https://sqs.eu-central-1.amazonaws.com")

    monkeypatch.setattr(SqsQueue, "send", dies)
    try:
        response = app.lambda_handler(event, lambda_context)
    except EndpointConnectionError:
        response = {"statusCode": 500}
    assert response["statusCode"] == 500  # Meta delivers the notification again
    assert customer(aws, wa_id=ASHA["wa_id"])["consent"]["marketing"] is False and queued(aws) == []
    monkeypatch.setattr(SqsQueue, "send", send)
    handle(event, lambda_context)
    [job] = queued(aws)
    assert job["send_key"] == "tx:consent:wamid.stop"  # the sender's send item makes it one message

"""The webhook handler on moto: handshake, signatures, bodies the parser cannot use."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.conftest import WHATSAPP_APP_SECRET, load_event
from tests.helpers.whatsapp import sample, signed_webhook_event, verification_event


def all_items(aws) -> list[dict]:
    return boto3.resource("dynamodb").Table(aws.table_name).scan()["Items"]


def handle(event, context):
    from functions.webhook import app

    return app.lambda_handler(event, context)


def test_verification_answers_the_challenge_as_plain_text(aws, lambda_context):
    response = handle(load_event("webhook/verify"), lambda_context)
    assert response["statusCode"] == 200
    assert response["body"] == "1158201444"
    assert response["headers"]["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("kwargs", [{"token": "wrong"}, {"mode": "unsubscribe"}, {"token": ""}])
def test_verification_with_a_wrong_token_or_mode_is_403(aws, lambda_context, kwargs):
    response = handle(verification_event(**kwargs), lambda_context)
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"]["code"] == "verification_failed"


def test_verification_without_parameters_is_403(aws, lambda_context):
    event = verification_event()
    event["queryStringParameters"] = None
    assert handle(event, lambda_context)["statusCode"] == 403


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "md5=abc", "sha256="])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(aws, lambda_context, signature):
    response = handle(signed_webhook_event(sample("inbound_text"), signature=signature), lambda_context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "invalid_signature"
    assert all_items(aws) == []


def test_a_body_signed_with_another_secret_is_401(aws, lambda_context):
    response = handle(signed_webhook_event(sample("inbound_text"), secret="someone-else"), lambda_context)
    assert response["statusCode"] == 401 and all_items(aws) == []


def test_a_tampered_body_is_401(aws, lambda_context):
    event = signed_webhook_event(sample("inbound_text"))
    event["body"] = event["body"].replace("size 42", "size 43")
    assert handle(event, lambda_context)["statusCode"] == 401


def test_the_previous_secret_is_accepted_while_rotating(aws, lambda_context, monkeypatch):
    from engage import wiring

    monkeypatch.setenv("WHATSAPP_APP_SECRET", "new-secret")
    monkeypatch.setenv("WHATSAPP_APP_SECRET_PREVIOUS", WHATSAPP_APP_SECRET)
    wiring.reset()
    old = handle(signed_webhook_event(sample("inbound_text")), lambda_context)
    new = handle(signed_webhook_event(sample("inbound_image"), secret="new-secret"), lambda_context)
    assert old["statusCode"] == new["statusCode"] == 200
    assert json.loads(new["body"])["messages"] == 1


def test_a_base64_encoded_body_is_verified_and_processed(aws, lambda_context):
    response = handle(signed_webhook_event(sample("inbound_text"), base64_body=True), lambda_context)
    assert response["statusCode"] == 200 and json.loads(response["body"])["messages"] == 1


def test_malformed_json_with_a_valid_signature_is_200_and_kept_with_a_ttl(aws, lambda_context):
    response = handle(signed_webhook_event(b'{"object": "whatsapp_business_account", "entry": [}'), lambda_context)
    assert response["statusCode"] == 200
    [item] = all_items(aws)
    assert item["pk"] == "WEBHOOK#UNPARSED" and item["content"].startswith('{"object"')
    assert item["expires_at"] == 1795428930 + 30 * 86_400
    again = handle(signed_webhook_event(b'{"object": "whatsapp_business_account", "entry": [}'), lambda_context)
    assert again["statusCode"] == 200 and len(all_items(aws)) == 1


def test_an_empty_entry_is_200_and_stores_nothing(aws, lambda_context):
    response = handle(load_event("webhook/empty_entry"), lambda_context)
    assert response["statusCode"] == 200 and all_items(aws) == []


def test_fields_we_do_not_handle_are_200_and_kept(aws, lambda_context):
    response = handle(load_event("webhook/template_status_update"), lambda_context)
    assert response["statusCode"] == 200
    [item] = all_items(aws)
    assert item["pk"] == "WEBHOOK#FIELD#MESSAGE_TEMPLATE_STATUS_UPDATE"
    assert json.loads(item["content"])["value"]["message_template_name"] == "bf26_running_shoes"


def test_value_level_errors_are_200_and_kept(aws, lambda_context):
    assert handle(load_event("webhook/value_errors"), lambda_context)["statusCode"] == 200
    assert [i["pk"] for i in all_items(aws)] == ["WEBHOOK#ERRORS"]


def test_a_large_body_is_kept_truncated_under_the_item_limit(aws, lambda_context):
    body = b"{" + b"x" * 1_000_000
    assert handle(signed_webhook_event(body), lambda_context)["statusCode"] == 200
    [item] = all_items(aws)
    assert item["truncated"] is True and item["size"] == len(body) and len(item["content"]) == 350_000


@pytest.mark.parametrize(("method", "path"), [("PUT", "/webhook"), ("POST", "/hooks"), ("GET", "/dev/other")])
def test_another_method_or_path_is_404_in_the_error_shape_and_stores_nothing(aws, lambda_context, method, path):
    event = signed_webhook_event(sample("inbound_text"))
    event["requestContext"]["http"]["method"] = method
    event["rawPath"] = path
    response = handle(event, lambda_context)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert all_items(aws) == []


def test_a_named_stage_prefix_is_not_part_of_the_route(aws, lambda_context):
    event = verification_event()
    event["requestContext"]["stage"] = "dev"
    event["rawPath"] = "/dev/webhook"
    assert handle(event, lambda_context)["statusCode"] == 200

"""2026 platform changes through the real handlers on moto: the Marketing Messages API route, BSUID
recipients, named template parameters, no marketing templates to US numbers, and a template
recategorisation arriving by webhook."""

from __future__ import annotations

import json

import boto3

from tests.conftest import load_event
from tests.integration.campaigns.test_campaign_flow import TEMPLATE, call, campaign_body

NAMED = {
    "name": "back_in_stock",
    "language": "en",
    "category": "utility",
    "parameter_format": "named",
    "body": "Hi {{first_name}}, your size is back.\nIt is reserved for you until {{until}}.\nTap Shop now to get it.",
    "buttons": [{"type": "url", "text": "Shop now", "url": "https://shop.test/{{1}}"}],
}


def customer(wa_id: str | None = None, user_id: str | None = None, name: str = "Asha Rao") -> str:
    from engage import wiring
    from engage.core.time import iso, utcnow
    from engage.customers.profiles import resolve_customer

    found, _ = resolve_customer(wiring.customers.repository(), wa_id=wa_id, user_id=user_id, name=name, now=utcnow())
    wiring.customers.repository().update(found.id, consent={"marketing": True, "updated_at": iso(utcnow())})
    wiring.tagging.memberships().add(found.id, "vip", since=iso(utcnow()), source="import")
    return found.id


def launch(stack, body: dict) -> str:
    status, campaign = call("POST", "/v1/campaigns", stack.context, body)
    assert status == 201, campaign
    assert call("POST", f"/v1/campaigns/{campaign['id']}/launch", stack.context)[0] == 200
    return campaign["id"]


def test_marketing_templates_go_to_marketing_messages_and_us_numbers_are_refused(stack):
    # Given an opted-in German customer, a username customer known only by BSUID and a US number
    customer(wa_id="4915123000001")
    customer(user_id="DE.1000000000000000009")
    customer(wa_id="12125550123")
    call("POST", "/v1/templates", stack.context, TEMPLATE)
    # When a marketing campaign runs
    campaign_id = launch(stack, campaign_body())
    stack.run_dispatcher()
    stack.run_sender()
    # Then both reachable customers got it through the Marketing Messages API, addressed correctly
    assert stack.graph.endpoints == ["marketing_messages", "marketing_messages"]
    addresses = sorted((b.get("to") or "", b.get("recipient") or "") for b in stack.graph.sent)
    assert addresses == [("", "DE.1000000000000000009"), ("4915123000001", "")]
    # and the US number was refused with its reason, not failed
    _, read = call("GET", f"/v1/campaigns/{campaign_id}", stack.context)
    assert read["progress"]["refused:marketing_blocked_us"] == 1 and read["progress"].get("failed", 0) == 0


def test_a_utility_template_with_named_parameters_goes_to_messages_with_parameter_names(stack):
    customer(wa_id="4915123000002")
    assert call("POST", "/v1/templates", stack.context, NAMED)[0] == 201
    named = {"first_name": "{{first_name}}", "until": "Friday"}
    variant = {"name": "A", "template": "back_in_stock", "body": named, "buttons": [{"index": 0, "value": "{{link}}"}]}
    body = campaign_body(category="utility", variants=[variant])
    launch(stack, body)
    stack.run_dispatcher()
    stack.run_sender()
    assert stack.graph.endpoints == ["messages"]
    params = stack.graph.sent[0]["template"]["components"][0]["parameters"]
    assert params == [
        {"type": "text", "parameter_name": "first_name", "text": "Asha"},
        {"type": "text", "parameter_name": "until", "text": "Friday"},
    ]


def test_named_parameters_that_do_not_match_the_template_are_refused_at_creation(stack):
    call("POST", "/v1/templates", stack.context, NAMED)
    body = campaign_body(category="utility", variants=[{"name": "A", "template": "back_in_stock", "body": ["x", "y"]}])
    status, error = call("POST", "/v1/campaigns", stack.context, body)
    assert status in (400, 422) and error["error"]["code"] == "template_parameters"


def test_a_template_recategorised_as_marketing_pauses_its_running_campaign_and_alerts(stack, lambda_context):
    from engage import wiring
    from functions.webhook import app

    # Given an alerts subscriber and a running utility campaign using back_in_stock
    sqs, sns = boto3.client("sqs", region_name="eu-west-1"), boto3.client("sns", region_name="eu-west-1")
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=wiring.aws.alert_settings().alerts_topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    customer(wa_id="4915123000003")
    call("POST", "/v1/templates", stack.context, NAMED)
    body = campaign_body(
        category="utility",
        variants=[{"name": "A", "template": "back_in_stock", "body": {"first_name": "x", "until": "y"}}],
    )
    campaign_id = launch(stack, body)
    # When WhatsApp's template_category_update arrives (twice: Meta retries)
    for _ in range(2):
        response = app.lambda_handler(load_event("webhook/template_category_update"), lambda_context)
        assert response["statusCode"] == 200
    # Then the campaign is paused as a marketing campaign, the template follows, one alert went out
    campaign = wiring.campaigns.repository().get(campaign_id)
    assert campaign.status == "paused" and campaign.category == "marketing"
    assert campaign.template_categories == {"back_in_stock": "marketing"}
    assert wiring.campaigns.templates().get("back_in_stock", "en").category == "marketing"
    messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1 and "back_in_stock" in json.loads(messages[0]["Body"])["Message"]

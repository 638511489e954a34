"""WhatsApp platform changes of 2026 on the send side: BSUID addressing, named template parameters,
the Marketing Messages API route, no marketing templates to US numbers, HTTP 429 without a code."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.adapters.whatsapp import WhatsAppClient, address, request_body
from engage.core.settings import WhatsAppSettings
from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.config import SendingConfig
from engage.delivery.jobs import SendJob, TemplateMessage, TextMessage
from engage.delivery.outbound import GraphError, Outbound, SendResult
from engage.delivery.policy import decide, endpoint_for
from engage.delivery.sender import RetryLater
from engage.delivery.whatsapp_errors import Action, classify
from tests.fakes.sending import T0, World, add_campaign, world

SETTINGS = WhatsAppSettings(
    WHATSAPP_ACCESS_TOKEN="token",
    WHATSAPP_PHONE_NUMBER_ID="800000000000002",
    WHATSAPP_API_BASE="https://graph.test/v25.0",
)
OK = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.1"}], "contacts": [{"input": "x"}]}

# E.164 (8-15 digits, optional +) and BSUIDs (`CC.` + alphanumerics, parent BSUIDs with `ENT.`)
phones = st.builds(
    lambda plus, first, rest: f"{'+' if plus else ''}{first}{rest}",
    st.booleans(),
    st.integers(1, 9),
    st.integers(10**6, 10**14 - 1),
)
bsuids = st.builds(
    lambda country, parent, tail: f"{country}.{'ENT.' if parent else ''}{tail}",
    st.sampled_from(["US", "DE", "BR", "IN", "SG", "GB", "MX"]),
    st.booleans(),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=10, max_size=40),
)


def posted(message: Outbound, answer: httpx.Response | None = None) -> tuple[str, dict, SendResult]:
    seen: dict = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["body"] = str(request.url), json.loads(request.content)
        return answer or httpx.Response(200, json=OK)

    result = WhatsAppClient(SETTINGS, http=httpx.Client(transport=httpx.MockTransport(handler))).send(message)
    return seen.get("url", ""), seen.get("body", {}), result


# ---------------------------------------------------------------- addressing (one place: the adapter)
@given(phones)
def test_a_phone_number_goes_in_to_and_never_in_recipient(number):
    assert address(number) == {"to": number}


@given(bsuids)
def test_a_business_scoped_user_id_goes_in_recipient_and_never_in_to(bsuid):
    body = request_body(Outbound(to=bsuid, kind="template", template="winter"))
    assert body["recipient"] == bsuid and "to" not in body


# ---------------------------------------------------------------- named template parameters
def test_a_template_with_named_parameters_is_sent_with_parameter_names():
    message = Outbound(
        to="4915123456789",
        kind="template",
        template="bf26",
        body=["Asha", "20%"],
        body_names=["first_name", "discount"],
    )
    _, body, _ = posted(message)
    assert body["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Asha"},
                {"type": "text", "parameter_name": "discount", "text": "20%"},
            ],
        }
    ]


def test_the_sender_fills_named_parameters_from_the_customer():
    w = world()
    add_campaign(w)
    c = add_customer(w)
    message = TemplateMessage(template="winter", variables={"body": {"first_name": "{{first_name}}", "code": "X1"}})
    w.sender.handle(SendJob(customer_id=c.id, send_key="cmp_1", campaign_id="cmp_1", variant="A", message=message))
    ((_, sent),) = w.whatsapp.sent
    assert (sent.body_names, sent.body) == (["first_name", "code"], ["Asha", "X1"])


# ---------------------------------------------------------------- the Marketing Messages API route
def test_marketing_templates_are_posted_to_marketing_messages_and_others_to_messages():
    url, _, _ = posted(Outbound(to="4915123456789", kind="template", template="bf26", endpoint="marketing_messages"))
    assert url == "https://graph.test/v25.0/800000000000002/marketing_messages"
    url, _, _ = posted(Outbound(to="4915123456789", kind="template", template="order_update"))
    assert url == "https://graph.test/v25.0/800000000000002/messages"


@pytest.mark.parametrize(
    ("category", "template_category", "message", "endpoint"),
    [
        ("marketing", None, TemplateMessage(template="bf26"), "marketing_messages"),
        ("utility", None, TemplateMessage(template="order_update"), "messages"),
        ("marketing", None, TextMessage(text="Hi"), "messages"),  # free text in the service window
        ("marketing", "utility", TemplateMessage(template="bf26"), "messages"),  # WhatsApp recategorised it
        ("utility", "MARKETING", TemplateMessage(template="order_update"), "marketing_messages"),
    ],
)
def test_the_route_follows_the_template_category(category, template_category, message, endpoint):
    job = SendJob(customer_id="c_1", send_key="k", category=category, message=message)
    assert endpoint_for(job, template_category) == endpoint


def test_a_campaign_send_goes_through_the_marketing_messages_api():
    w = world()
    add_campaign(w, template_categories={"winter": "marketing"})
    c = add_customer(w)
    assert w.sender.handle(campaign_job(c)).action == "sent"
    assert w.whatsapp.sent[0][1].endpoint == "marketing_messages"


# ---------------------------------------------------------------- no marketing templates to US numbers
us_numbers = st.builds(
    lambda area, exchange, line: f"1{area}{exchange}{line:04d}",
    st.sampled_from(["212", "415", "650", "305", "202", "312", "718", "512"]),
    st.integers(200, 999),
    st.integers(0, 9999),
)


@given(us_numbers)
def test_marketing_templates_to_us_numbers_are_refused_with_a_reason_not_failed(wa_id):
    c = Customer(id="c_1", wa_id=wa_id, consent=Consent(marketing=True))
    job = SendJob(customer_id="c_1", send_key="k", category="marketing", message=TemplateMessage(template="bf26"))
    decision = decide(job, c, [], SendingConfig(), T0)
    assert (decision.action, decision.reason) == ("refuse", "marketing_blocked_us")


def test_utility_templates_canada_and_service_text_to_plus_one_still_go():
    config = SendingConfig()
    us = Customer(id="c_1", wa_id="12125550123", consent=Consent(marketing=True), last_inbound_at=iso(T0))
    canada = Customer(id="c_2", wa_id="14165550123", consent=Consent(marketing=True))
    utility = SendJob(customer_id="c_1", send_key="k", category="utility", message=TemplateMessage(template="order"))
    marketing = SendJob(customer_id="c_2", send_key="k", category="marketing", message=TemplateMessage(template="bf"))
    text = SendJob(customer_id="c_1", send_key="k", category="marketing", message=TextMessage(text="Hi"))
    assert decide(utility, us, [], config, T0).reason != "marketing_blocked_us"
    assert decide(marketing, canada, [], config, T0).reason != "marketing_blocked_us"
    assert decide(text, us, [], config, T0).reason != "marketing_blocked_us"


def test_a_username_user_with_a_us_business_scoped_id_is_refused_too_and_the_regions_are_a_setting():
    bsuid_only = Customer(id="c_1", user_id="US.13491208655302741918", consent=Consent(marketing=True))
    job = SendJob(customer_id="c_1", send_key="k", category="marketing", message=TemplateMessage(template="bf26"))
    assert decide(job, bsuid_only, [], SendingConfig(), T0).reason == "marketing_blocked_us"
    lifted = SendingConfig(marketing_blocked_regions=[])
    assert decide(job, bsuid_only, [], lifted, T0).reason != "marketing_blocked_us"


def test_the_sender_records_the_refusal_and_calls_nobody():
    w = world()
    add_campaign(w)
    c = add_customer(w, wa_id="12125550123")
    outcome = w.sender.handle(campaign_job(c))
    assert (outcome.action, outcome.reason) == ("refused", "marketing_blocked_us")
    assert w.whatsapp.sent == [] and w.sends.get(c.id, "cmp_1").state == "refused"


# ---------------------------------------------------------------- HTTP 429 without an error code
def test_a_429_without_an_error_body_is_parsed_with_its_retry_after():
    _, _, result = posted(
        Outbound(to="4915123456789", kind="text", text="x"),
        httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "30"}),
    )
    assert result.error is not None and (result.error.http_status, result.error.retry_after) == (429, 30)
    assert classify(result.error) is Action.RETRY


@pytest.mark.parametrize("code", [0, 999999])
def test_a_429_without_a_known_code_is_retried_not_a_halt(code):
    assert classify(GraphError(code=code, http_status=429)) is Action.RETRY


def test_a_429_with_a_known_code_keeps_that_codes_action():
    assert classify(GraphError(code=131048, http_status=429)) is Action.HALT
    assert classify(GraphError(code=131056, http_status=429)) is Action.PAIR_DEFER


def test_the_sender_retries_a_bare_429_with_backoff_and_the_campaign_keeps_running():
    w = world()
    add_campaign(w)
    c = add_customer(w)
    w.whatsapp.script = [SendResult(error=GraphError(code=0, http_status=429, retry_after=40))]
    with pytest.raises(RetryLater) as retry:
        w.sender.handle(campaign_job(c))
    assert retry.value.delay == 40 and retry.value.reason == "whatsapp:http_429"
    assert w.campaigns.items["cmp_1"].status == "running" and w.alerts.published == []
    assert w.sends.get(c.id, "cmp_1").state == "retrying"
    w.clock.advance(seconds=retry.value.delay)
    assert w.sender.handle(campaign_job(c), receive_count=2).action == "sent"


# ---------------------------------------------------------------- helpers


def add_customer(w: World, **kw) -> Customer:
    data = {"id": "c_0001", "wa_id": "4915123400001", "name": "Asha Rao", "consent": Consent(marketing=True)}
    data.update(kw)
    return w.customers.add(Customer(**data))


def campaign_job(c: Customer, cid: str = "cmp_1") -> SendJob:
    message = TemplateMessage(template="winter", variables={"body": ["{{name}}"]})
    return SendJob(customer_id=c.id, send_key=cid, campaign_id=cid, variant="A", message=message)

"""Campaign creation checks what would otherwise fail after launch, and drafts can be edited and deleted,
through the api handler on moto."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.events import http_event
from tests.integration.campaigns.test_campaign_flow import TEMPLATE, audience, campaign_body


def call(method: str, path: str, context, body=None) -> tuple[int, dict | None]:
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, groups="marketer"), context)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


@pytest.fixture
def ready(stack):
    """A template and 3 customers holding `vip`; returns the stack."""
    audience(3)
    assert call("POST", "/v1/templates", stack.context, TEMPLATE)[0] == 201
    return stack


def stored(stack) -> list[dict]:
    return call("GET", "/v1/campaigns", stack.context)[1]["campaigns"]


def with_button(value: str) -> dict:
    variant = {"name": "A", "template": "winter_sale", "body": ["{{name}}", "{{coupon}}"],
               "buttons": [{"index": 0, "value": value}]}  # fmt: skip
    return campaign_body(variants=[variant])


# ---------------------------------------------------------------- links

BAD_LINKS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://shop.test/winter",
    "https://",
    "http:///path-only",
    "https://user:pw@shop.test/",
    "https://shop.test/a b",
    "shop.test/winter",
    "//shop.test/winter",
    "",
]


@pytest.mark.parametrize("link", BAD_LINKS)
def test_a_tracked_link_that_is_not_http_with_a_host_is_refused_and_nothing_stored(ready, link):
    status, body = call("POST", "/v1/campaigns", ready.context, campaign_body(link=link))
    assert (status, body["error"]["code"]) == (400, "invalid_link")
    assert body["error"]["details"]["field"] == "link"
    assert stored(ready) == []


@pytest.mark.parametrize("value", ["javascript:alert(1)", "data:,x", "https://", "mailto:a@shop.test"])
def test_a_url_button_given_as_a_whole_url_must_be_http_with_a_host(ready, value):
    status, body = call("POST", "/v1/campaigns", ready.context, with_button(value))
    assert (status, body["error"]["details"]["field"]) == (400, "variants[0].buttons[0].value")
    assert stored(ready) == []


@pytest.mark.parametrize("value", ["{{link}}", "winter?utm=wa", "https://shop.test/winter"])
def test_url_buttons_take_an_expression_a_suffix_or_a_web_url(ready, value):
    assert call("POST", "/v1/campaigns", ready.context, with_button(value))[0] == 201


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheme=st.sampled_from(["javascript", "data", "vbscript", "file", "ftp", "intent", "whatsapp", "http", "https"]),
    rest=st.text(max_size=40),
)
def test_any_link_is_accepted_only_as_http_with_a_host(ready, scheme, rest):
    link = f"{scheme}:{rest}"
    status, body = call("POST", "/v1/campaigns", ready.context, campaign_body(link=link))
    assert status in (201, 400, 422), body
    if status == 201:
        assert scheme in ("http", "https") and rest.startswith("//") and body["link"] == link.strip()
        assert call("DELETE", f"/v1/campaigns/{body['id']}", ready.context)[0] == 204
    else:
        assert set(body) == {"error"}


def test_a_campaign_stored_with_a_bad_link_refuses_its_sends_instead_of_failing_them(ready):
    from engage import wiring

    status, campaign = call("POST", "/v1/campaigns", ready.context, campaign_body())
    repository = wiring.campaigns.repository()
    old = repository.get(campaign["id"]).model_copy(update={"link": "javascript:alert(1)"})  # stored before the check
    repository.save(old)
    assert call("POST", f"/v1/campaigns/{campaign['id']}/launch", ready.context)[0] == 200
    ready.run_dispatcher()
    ready.run_sender()
    assert ready.graph.sent == []
    progress = call("GET", f"/v1/campaigns/{campaign['id']}", ready.context)[1]["progress"]
    assert progress["refused"] == 3 and progress["refused:invalid_content:invalid_link"] == 3
    assert (
        ready.sqs.get_queue_attributes(QueueUrl=ready.aws.queues["SendDLQ"], AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )


# ---------------------------------------------------------------- audience and template


def test_an_unknown_segment_is_refused_at_creation_not_paused_after_launch(ready):
    status, body = call(
        "POST", "/v1/campaigns", ready.context, campaign_body(rule=None, segment_id="seg_0000000000000000")
    )
    assert (status, body["error"]["code"]) == (400, "segment_not_found")
    assert stored(ready) == []


def test_a_saved_segment_is_accepted(ready):
    status, segment = call("POST", "/v1/segments", ready.context, {"name": "VIPs", "rule": "tag:vip"})
    assert status == 201, segment
    status, body = call("POST", "/v1/campaigns", ready.context, campaign_body(rule=None, segment_id=segment["id"]))
    assert (status, body["segment_id"], body["rule"]) == (201, segment["id"], None)


def test_an_unknown_template_or_language_is_refused_at_creation(ready):
    for variant in ({"template": "nope"}, {"template": "winter_sale", "language": "de"}):
        status, body = call("POST", "/v1/campaigns", ready.context, campaign_body(variants=[variant]))
        assert (status, body["error"]["code"]) == (400, "template_not_found")
    assert stored(ready) == []


def test_an_inline_rule_in_text_form_is_checked_and_stored_as_json(ready):
    status, body = call("POST", "/v1/campaigns", ready.context, campaign_body(rule="tag:vip AND NOT rfm:dormant"))
    assert status == 201, body
    assert body["rule"] == {"all": [{"tag": "vip"}, {"none": [{"rfm": "dormant"}]}]}
    assert call("POST", f"/v1/campaigns/{body['id']}/launch", ready.context)[0] == 200
    ready.run_dispatcher()
    ready.run_sender()
    assert len(ready.graph.sent) == 3


@pytest.mark.parametrize(
    "rule",
    ["(" * 300 + "tag:vip" + ")" * 300, "NOT " * 1000 + "tag:vip", "tag:vip AND last_order < 999999999d",
     "tag:vip AND total_spent >= 1e400", {"all": [{"tag": "vip"}, {"total_spent": {"at_least": 1e400}}]},
     "tag:vip AND NOT tag:vip", "tag:vipp"],
)  # fmt: skip
def test_an_inline_rule_goes_through_the_same_validation_as_a_preview(ready, rule):
    preview_status, preview = call("POST", "/v1/segments/preview", ready.context, {"rule": rule})
    status, body = call("POST", "/v1/campaigns", ready.context, campaign_body(rule=rule))
    assert (status, body["error"]["code"]) == (preview_status, preview["error"]["code"]) == (400, "invalid_rule")
    assert body["error"]["details"] == preview["error"]["details"]
    assert stored(ready) == []


# ---------------------------------------------------------------- edit and delete drafts


def test_a_draft_is_replaced_patched_and_deleted(ready):
    status, draft = call("POST", "/v1/campaigns", ready.context, campaign_body())
    cid = draft["id"]
    status, replaced = call(
        "PUT", f"/v1/campaigns/{cid}", ready.context, campaign_body(name="Winter v2", rule="tag:vip")
    )
    assert status == 200 and (replaced["name"], replaced["rule"], replaced["id"]) == ("Winter v2", {"tag": "vip"}, cid)
    assert replaced["created_at"] == draft["created_at"] and replaced["updated_at"]
    status, patched = call("PATCH", f"/v1/campaigns/{cid}", ready.context, {"link": "https://shop.test/sale"})
    assert status == 200 and patched["link"] == "https://shop.test/sale" and patched["name"] == "Winter v2"
    status, segment = call("POST", "/v1/segments", ready.context, {"name": "VIPs", "rule": "tag:vip"})
    status, patched = call("PATCH", f"/v1/campaigns/{cid}", ready.context, {"segment_id": segment["id"]})
    assert status == 200 and (patched["segment_id"], patched["rule"]) == (segment["id"], None)
    assert call("GET", f"/v1/campaigns/{cid}", ready.context)[1]["segment_id"] == segment["id"]
    assert call("DELETE", f"/v1/campaigns/{cid}", ready.context)[0] == 204
    assert call("GET", f"/v1/campaigns/{cid}", ready.context)[0] == 404
    assert call("DELETE", f"/v1/campaigns/{cid}", ready.context)[0] == 404


def test_an_edit_is_checked_as_a_creation_and_a_refused_one_changes_nothing(ready):
    status, draft = call("POST", "/v1/campaigns", ready.context, campaign_body())
    cid = draft["id"]
    refusals = [
        ("PATCH", {"link": "javascript:alert(1)"}, 400, "invalid_link"),
        ("PATCH", {"segment_id": "seg_missing"}, 400, "segment_not_found"),
        ("PATCH", {"rule": "NOT " * 500 + "tag:vip"}, 400, "invalid_rule"),
        ("PATCH", {"variants": [{"template": "nope"}]}, 400, "template_not_found"),
        ("PATCH", {"name": None}, 422, "validation_error"),
        ("PATCH", {"default_variant": "B"}, 422, "validation_error"),
        ("PATCH", {"colour": "red"}, 422, "validation_error"),
        ("PUT", campaign_body(link="javascript:alert(1)"), 400, "invalid_link"),
        ("PUT", {"name": "only a name"}, 422, "validation_error"),
    ]
    for method, body, code_status, code in refusals:
        status, answer = call(method, f"/v1/campaigns/{cid}", ready.context, body)
        assert (status, answer["error"]["code"]) == (code_status, code), (method, body, answer)
    after = call("GET", f"/v1/campaigns/{cid}", ready.context)[1]
    assert {k: after[k] for k in draft} == draft


@pytest.mark.parametrize("move", ["launch", "cancel"])
def test_only_a_draft_can_be_edited_or_deleted(ready, move):
    status, draft = call("POST", "/v1/campaigns", ready.context, campaign_body())
    cid = draft["id"]
    assert call("POST", f"/v1/campaigns/{cid}/{move}", ready.context)[0] == 200
    for method, body in (("PUT", campaign_body(name="late")), ("PATCH", {"name": "late"}), ("DELETE", None)):
        status, answer = call(method, f"/v1/campaigns/{cid}", ready.context, body)
        assert (status, answer["error"]["code"]) == (409, "campaign_state"), (method, answer)
    assert call("GET", f"/v1/campaigns/{cid}", ready.context)[1]["name"] == "Winter"


def test_editing_or_deleting_an_unknown_campaign_is_404(ready):
    for method, body in (("PUT", campaign_body()), ("PATCH", {"name": "x"}), ("DELETE", None)):
        status, answer = call(method, "/v1/campaigns/cmp_0000000000000000", ready.context, body)
        assert (status, answer["error"]["code"]) == (404, "campaign_not_found")


def test_drafts_are_edited_by_marketers_only(ready):
    from functions.api import app

    status, draft = call("POST", "/v1/campaigns", ready.context, campaign_body())
    for method, body in (("PUT", campaign_body(name="x")), ("PATCH", {"name": "x"}), ("DELETE", None)):
        event = http_event(method, f"/v1/campaigns/{draft['id']}", body=body)
        assert app.lambda_handler(event, ready.context)["statusCode"] == 401
    assert call("GET", f"/v1/campaigns/{draft['id']}", ready.context)[1]["name"] == "Winter"


def test_a_follow_up_draft_keeps_its_audience_but_takes_other_edits(ready):
    from engage import wiring
    from engage.campaigns.campaign import Campaign
    from engage.core.time import iso, utcnow

    status, source = call("POST", "/v1/campaigns", ready.context, campaign_body())
    follow = Campaign.model_validate({**source, "id": "cmp_00000000000000ff", "follow_up_of": source["id"]})
    wiring.campaigns.repository().save(follow.model_copy(update={"created_at": iso(utcnow())}))
    status, answer = call(
        "PATCH", f"/v1/campaigns/{follow.id}", ready.context, {"rule": "tag:vip AND consent:marketing"}
    )
    assert (status, answer["error"]["code"]) == (400, "audience_fixed")
    status, renamed = call("PATCH", f"/v1/campaigns/{follow.id}", ready.context, {"name": "Winter (second try)"})
    assert status == 200 and renamed["rule"] == source["rule"] and renamed["follow_up_of"] == source["id"]

"""/v1/settings through the api handler on moto: roles, checks, the change log, and that a change
is what the sender, the tag-health job and the phone reader use next."""

from __future__ import annotations

import json

from tests.conftest import FakeLambdaContext
from tests.helpers.events import http_event
from tests.integration.campaigns.conftest import stack  # noqa: F401  (the sending stack fixture)
from tests.integration.campaigns.test_campaign_flow import audience, launched


def call(method, path, body=None, groups="marketer", query=None):
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, groups=groups, query=query), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_marketers_read_the_settings_with_defaults_and_ranges(aws):
    status, body = call("GET", "/v1/settings")
    assert status == 200
    settings = body["settings"]
    assert settings["sending"]["caps"]["promo_max_per_30_days"] == 2
    assert settings["sending"]["windows"]["middle_east"] == [{"start": 14, "end": 16}, {"start": 20, "end": 22}]
    assert settings["metrics"]["alerts"]["min_sample"] == 50
    assert settings["tagging"]["health"] == {
        "silent_days": 30, "overloaded_share": 0.4, "split_into": 3, "healthy_min": 50, "healthy_max": 80,
        "warn_above": 100,
    }  # fmt: skip
    assert body["ranges"]["sending.caps.promo_max_per_30_days"] == [0, 60]


def test_only_admins_change_settings(aws):
    change = {"sending": {"caps": {"promo_max_per_30_days": 3}}}
    for method in ("PUT", "PATCH"):
        status, body = call(method, "/v1/settings", change, groups="marketer")
        assert (status, body["error"]["code"]) == (403, "forbidden")
        status, body = call(method, "/v1/settings", change, groups=None)
        assert (status, body["error"]["code"]) == (401, "unauthorized")
    assert call("GET", "/v1/settings")[1]["settings"]["sending"]["caps"]["promo_max_per_30_days"] == 2
    assert call("GET", "/v1/settings/log")[1]["entries"] == []


def test_a_bad_value_is_a_422_naming_it_and_changes_nothing(aws):
    for body, words in (
        ({"sending": {"caps": {"promo_max_per_30_days": -1}}}, "sending.caps.promo_max_per_30_days"),
        ({"sending": {"windows": {"weekday": [{"start": 22, "end": 20}]}}}, "before end"),
        ({"sending": {"throtle": {}}}, "sending.throtle"),
        ({"sending": {"messaging_tier": "10000"}}, "messaging_tier"),
        ([1, 2], "JSON object"),
        ({"reason": 5}, "reason"),
    ):
        status, reply = call("PATCH", "/v1/settings", body, groups="admin")
        assert 400 <= status < 500 and words in reply["error"]["message"], (body, reply)
    assert call("GET", "/v1/settings/log")[1]["entries"] == []


def test_each_change_is_logged_with_who_when_and_what_newest_first_and_paged(aws):
    for n, tier in enumerate((1000, 10_000, 100_000)):
        body = {"sending": {"messaging_tier": tier}, "reason": f"tier step {n}"}
        status, reply = call("PATCH", "/v1/settings", body, groups="admin")
        assert status == 200 and reply["settings"]["sending"]["messaging_tier"] == tier
    status, first = call("GET", "/v1/settings/log", query={"limit": "2"})
    assert status == 200 and len(first["entries"]) == 2 and first["cursor"]
    status, second = call("GET", "/v1/settings/log", query={"limit": "2", "cursor": first["cursor"]})
    assert status == 200 and second["cursor"] is None
    entries = first["entries"] + second["entries"]
    assert [e["changes"] for e in entries] == [
        [{"path": "sending.messaging_tier", "from": 10_000, "to": 100_000}],
        [{"path": "sending.messaging_tier", "from": 1000, "to": 10_000}],
        [{"path": "sending.messaging_tier", "from": 2000, "to": 1000}],
    ]
    assert entries[0]["by"] == "admin@example.com" and entries[0]["reason"] == "tier step 2"
    assert entries[0]["at"] >= entries[1]["at"] >= entries[2]["at"]
    status, reply = call("GET", "/v1/settings/log", query={"cursor": "forged.cursor"})
    assert (status, reply["error"]["code"]) == (400, "invalid_cursor")


def test_a_changed_default_country_reads_national_numbers_at_once(aws):
    body = {"phone": "0151 23456789", "marketing_consent": True}
    status, reply = call("POST", "/v1/customers", body)
    assert (status, reply["error"]["code"]) == (422, "phone_needs_country")
    assert call("PATCH", "/v1/settings", {"customers": {"default_country": "DE"}}, groups="admin")[0] == 200
    status, reply = call("POST", "/v1/customers", body)
    assert status == 201 and reply["wa_id"] == "4915123456789"


def test_a_tag_health_threshold_changed_through_settings_is_what_the_weekly_job_uses(aws, lambda_context):
    from functions.scheduler import app as scheduler

    event = {"schedule": "tag-health", "now": "2026-11-23T03:00:00Z"}
    assert scheduler.lambda_handler(event, lambda_context)["status"] == "small"  # the 20-tag starter catalog
    change = {"tagging": {"health": {"healthy_min": 5, "healthy_max": 10, "warn_above": 15}}}
    assert call("PATCH", "/v1/settings", change, groups="admin")[0] == 200
    assert scheduler.lambda_handler(event, lambda_context)["status"] == "too-large"


def test_a_region_blocked_through_settings_gets_no_marketing(stack):  # noqa: F811
    # Given the send window the sending tests use, kept by a partial change of another value
    status, reply = call(
        "PATCH", "/v1/settings", {"sending": {"marketing_blocked_regions": ["US", "DE"]}}, groups="admin"
    )
    assert status == 200 and reply["settings"]["sending"]["windows"]["quiet_start"] == 24
    # When a campaign goes to German customers
    audience(3)
    campaign = launched(stack)
    stack.run_dispatcher()
    stack.run_sender()
    # Then nothing is sent: the sender read the changed setting
    assert stack.graph.sent == []
    status, read = call("GET", f"/v1/campaigns/{campaign}")
    assert read["progress"]["refused:marketing_blocked_de"] == 3

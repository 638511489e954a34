"""/v1/segments through the api handler on moto: preview, saved segments, refusals, marketer auth."""

from __future__ import annotations

import json
import random

import pytest

from engage.core.time import parse_iso
from tests.helpers.events import http_event
from tests.helpers.segments import base_items, random_base

NOW = parse_iso("2026-11-23T10:00:00Z")


@pytest.fixture
def api(aws, lambda_context):
    """Calls the api handler; a base of 40 random customers is in the table."""
    from engage import wiring
    from functions.api import app

    people = random_base(random.Random(5), 40, NOW)
    wiring.aws.table().batch_put(base_items(people))

    def call(method, path, body=None, groups="marketer"):
        response = app.lambda_handler(http_event(method, path, body=body, groups=groups), lambda_context)
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    call.people = people
    return call


def holders(people, tag):
    return {p.customer.id for p in people if tag in p.tags}


def test_preview_counts_and_samples_a_text_rule(api):
    status, body = api("POST", "/v1/segments/preview", {"rule": "interest:cosmetics AND NOT product:lipstick"})
    assert status == 200
    expected = holders(api.people, "interest:cosmetics") - holders(api.people, "product:lipstick")
    assert body["count"] == len(expected)
    assert {c["id"] for c in body["sample"]} == set(sorted(expected)[:20])
    assert all(c["matched_tags"] == ["interest:cosmetics"] and c["wa_id"] for c in body["sample"])
    assert body["plan"]["strategy"] == "index"
    assert body["took_ms"] >= 0
    assert body["text"] == "tag:interest:cosmetics AND NOT tag:product:lipstick"


def test_preview_takes_the_json_form_too(api):
    rule = {"any": [{"rfm": "vip"}, {"consent": "marketing"}]}
    status, body = api("POST", "/v1/segments/preview", {"rule": rule})
    assert status == 200
    expected = holders(api.people, "rfm:vip") | {p.customer.id for p in api.people if p.customer.consent.marketing}
    assert body["count"] == len(expected)
    assert body["rule"] == rule


def test_preview_refuses_an_unknown_tag_with_position_and_suggestions(api):
    status, body = api("POST", "/v1/segments/preview", {"rule": "interest:cosmetics AND stage:purchasd"})
    assert status == 400
    error = body["error"]
    assert error["code"] == "invalid_rule"
    assert error["details"]["offset"] == 23
    assert error["details"]["suggestions"][0] == "stage:purchased"


def test_preview_refuses_a_contradiction_and_an_empty_group(api):
    status, body = api("POST", "/v1/segments/preview", {"rule": "rfm:vip AND NOT rfm:vip"})
    assert (status, body["error"]["details"]["code"]) == (400, "contradiction")
    status, body = api("POST", "/v1/segments/preview", {"rule": {"all": [{"rfm": "vip"}, {"none": []}]}})
    assert (status, body["error"]["details"]["path"]) == (400, "$.all[1].none")


def test_segments_need_a_marketer(api):
    status, body = api("POST", "/v1/segments/preview", {"rule": "rfm:vip"}, groups=None)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, _ = api("GET", "/v1/segments", groups="viewer")
    assert status == 403
    status, _ = api("GET", "/v1/segments", groups="admin")
    assert status == 200


def test_unknown_body_fields_are_a_422(api):
    status, body = api("POST", "/v1/segments", {"name": "x", "rule": "rfm:vip", "colour": "red"})
    assert (status, body["error"]["code"]) == (422, "validation_error")


def test_saved_segment_lifecycle(api):
    # Given a saved segment
    status, created = api(
        "POST",
        "/v1/segments",
        {"name": "VIP cosmetics", "rule": "rfm:vip AND interest:cosmetics", "description": "for the launch"},
    )
    assert status == 201
    vip_cosmetics = holders(api.people, "rfm:vip") & holders(api.people, "interest:cosmetics")
    assert created["last_count"] == len(vip_cosmetics)
    assert created["owner"] == "marketer@example.com"
    assert created["rule"] == {"all": [{"rfm": "vip"}, {"tag": "interest:cosmetics"}]}
    sid = created["id"]
    # Then it is listed and readable, and its name is unique
    assert [s["id"] for s in api("GET", "/v1/segments")[1]["segments"]] == [sid]
    assert api("POST", "/v1/segments", {"name": "vip COSMETICS", "rule": "rfm:vip"})[0] == 409
    status, read = api("GET", f"/v1/segments/{sid}")
    assert (status, read["name"], read["sizes"]) == (200, "VIP cosmetics", [])
    # When its rule changes, the count follows
    status, changed = api("PUT", f"/v1/segments/{sid}", {"rule": {"rfm": "vip"}})
    assert (status, changed["last_count"], changed["text"]) == (200, len(holders(api.people, "rfm:vip")), "rfm:vip")
    assert changed["description"] == "for the launch"
    # And a bad rule is refused without changing it
    assert api("PUT", f"/v1/segments/{sid}", {"rule": "rfm:vipp"})[0] == 400
    assert api("GET", f"/v1/segments/{sid}")[1]["text"] == "rfm:vip"
    # When it is deleted, it is gone
    assert api("DELETE", f"/v1/segments/{sid}")[0] == 204
    assert api("GET", f"/v1/segments/{sid}")[0] == 404
    assert api("DELETE", f"/v1/segments/{sid}")[0] == 404


def test_nightly_sizes_show_on_the_segment(api, lambda_context):
    from functions.scheduler import app as scheduler

    _, created = api("POST", "/v1/segments", {"name": "Dormant", "rule": "lifecycle:dormant"})
    # When the segment-sizes job runs on two nights
    for night in ("2026-11-21T02:00:00Z", "2026-11-22T02:00:00Z"):
        summary = scheduler.lambda_handler({"schedule": "segment-sizes", "now": night}, lambda_context)
        assert summary["segments"] == {created["id"]: len(holders(api.people, "lifecycle:dormant"))}
        assert summary["base_size"] == 40
    # Then the segment shows its recent sizes, newest first
    sizes = api("GET", f"/v1/segments/{created['id']}")[1]["sizes"]
    assert [s["day"] for s in sizes] == ["2026-11-22", "2026-11-21"]
    assert {s["count"] for s in sizes} == {created["last_count"]}


def test_sample_events_run_through_the_handlers(api, lambda_context):
    from functions.api import app
    from functions.scheduler import app as scheduler
    from tests.conftest import load_event

    response = app.lambda_handler(load_event("api/preview_segment"), lambda_context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["text"].startswith("tag:interest:cosmetics AND")
    assert scheduler.lambda_handler(load_event("scheduler/segment_sizes"), lambda_context)["day"] == "2026-11-23"

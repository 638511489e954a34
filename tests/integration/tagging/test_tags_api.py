"""Tag catalog, hand tagging, bulk, log and health through the api handler on moto."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.helpers.events import http_event

NOW = "2026-11-23T10:00:00Z"


@pytest.fixture
def api(aws):
    from functions.api import app

    return app


def call(api, context, method, path, body=None, groups="marketer", query=None):
    response = api.lambda_handler(http_event(method, path, body=body, groups=groups, query=query), context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def asha(aws):
    from engage import wiring
    from engage.core.time import parse_iso
    from engage.customers.profiles import resolve_customer

    customer, _ = resolve_customer(
        wiring.customers.repository(), wa_id="4915123456789", user_id=None, now=parse_iso(NOW)
    )
    return customer


def test_first_call_installs_the_starter_catalog_and_default_rules(api, lambda_context):
    status, body = call(api, lambda_context, "GET", "/v1/tags")
    assert status == 200 and 15 <= body["count"] <= 20
    price = next(t for t in body["tags"] if t["name"] == "interest:price-sensitive")
    assert price["kind"] == "dynamic" and price["colour"].startswith("#")
    status, rules = call(api, lambda_context, "GET", "/v1/rules")
    ids = {r["id"] for r in rules["rules"]}
    assert {"kw-price-sensitive", "bh-intent-high", "at-coupon-share", "or-order-effects"} <= ids
    assert all(r["default"] for r in rules["rules"])


def test_only_admins_create_rename_and_delete_tags(api, lambda_context):
    body = {"name": "Interests: Yoga Mats", "kind": "static", "description": "Yoga gear"}
    assert call(api, lambda_context, "POST", "/v1/tags", body)[0] == 403
    status, created = call(api, lambda_context, "POST", "/v1/tags", body, groups="admin")
    assert status == 201 and created["name"] == "interest:yoga-mats" and created["dimension"] == "interest"
    assert call(api, lambda_context, "POST", "/v1/tags", body, groups="admin")[0] == 409
    path = "/v1/tags/" + quote("interest:yoga-mats")
    assert call(api, lambda_context, "PATCH", path, {"name": "interest:yoga"})[0] == 403
    assert call(api, lambda_context, "DELETE", path)[0] == 403
    assert call(api, lambda_context, "DELETE", path, groups=None)[0] == 401


def test_names_are_normalised_and_bad_ones_refused(api, lambda_context):
    status, body = call(api, lambda_context, "POST", "/v1/tags", {"name": "Source: Télégram  Ads"}, groups="admin")
    assert (status, body["name"]) == (201, "source:telegram-ads")
    status, body = call(api, lambda_context, "POST", "/v1/tags", {"name": "nodimension"}, groups="admin")
    assert status == 400 and "dimension:value" in body["error"]["message"]
    status, body = call(api, lambda_context, "POST", "/v1/tags", {"name": "mood:happy"}, groups="admin")
    assert status == 400 and body["error"]["code"] == "unknown_dimension"
    body = {"name": "rfm:custom", "kind": "static"}
    assert call(api, lambda_context, "POST", "/v1/tags", body, groups="admin")[1]["error"]["code"] == "system_dimension"


def test_hand_tagging_static_tags_shows_on_the_customer_and_in_the_log(api, lambda_context, asha):
    call(api, lambda_context, "POST", "/v1/tags", {"name": "interest:yoga"}, groups="admin")
    status, body = call(
        api,
        lambda_context,
        "POST",
        f"/v1/customers/{asha.wa_id}/tags",
        {"tag": "Interest: Yoga", "reason": "asked in store"},
    )
    assert (status, body["added"]) == (201, True)
    status, customer = call(api, lambda_context, "GET", f"/v1/customers/{asha.wa_id}")
    assert customer["tags"] == [
        {
            "name": "interest:yoga",
            "since": customer["tags"][0]["since"],
            "source": "hand:marketer@example.com",
            "reason": "asked in store",
        }
    ]
    status, log = call(api, lambda_context, "GET", "/v1/tags/log", query={"customer": asha.wa_id})
    assert [(e["tag"], e["change"], e["by"]) for e in log["entries"]] == [
        ("interest:yoga", "added", "hand:marketer@example.com")
    ]
    status, body = call(api, lambda_context, "DELETE", f"/v1/customers/{asha.wa_id}/tags/" + quote("interest:yoga"))
    assert (status, body["removed"]) == (200, True)
    assert call(api, lambda_context, "GET", f"/v1/customers/{asha.wa_id}/tags")[1]["tags"] == []


def test_dynamic_tags_cannot_be_set_by_hand(api, lambda_context, asha):
    status, body = call(api, lambda_context, "POST", f"/v1/customers/{asha.wa_id}/tags", {"tag": "intent:high"})
    assert (status, body["error"]["code"]) == (409, "dynamic_tag")


def test_rename_carries_every_membership_along(api, lambda_context, asha):
    from engage import wiring

    call(api, lambda_context, "POST", "/v1/tags", {"name": "interest:yoga-old"}, groups="admin")
    for n in range(30):
        wiring.tagging.memberships().add(f"c_{n:032x}", "interest:yoga-old", since=NOW, source="import")
    status, body = call(
        api,
        lambda_context,
        "PATCH",
        "/v1/tags/interest:yoga-old",
        {"name": "interest:yoga", "reason": "shorter"},
        groups="admin",
    )
    assert status == 200 and body["state"] == "done" and body["moved"] == 30
    assert (
        wiring.tagging.memberships().count("interest:yoga") == 30
        and wiring.tagging.memberships().count("interest:yoga-old") == 0
    )
    assert call(api, lambda_context, "GET", "/v1/tags/interest:yoga-old")[0] == 404
    assert call(api, lambda_context, "GET", "/v1/tags/interest:yoga")[1]["renamed_from"] == "interest:yoga-old"
    entries = call(api, lambda_context, "GET", "/v1/tags/log", query={"tag": "interest:yoga"})[1]["entries"]
    assert entries[0]["change"] == "renamed" and entries[0]["details"] == {"from": "interest:yoga-old"}


def test_a_big_rename_continues_in_batches_on_the_pass_queue(api, lambda_context, monkeypatch):
    from engage import wiring
    from engage.tagging import service as tagging
    from tests.helpers.queues import drain_pass_queue

    monkeypatch.setattr(tagging, "BATCH", 10)
    call(api, lambda_context, "POST", "/v1/tags", {"name": "interest:pilates"}, groups="admin")
    for n in range(25):
        wiring.tagging.memberships().add(f"c_{n:032x}", "interest:pilates", since=NOW, source="import")
    status, body = call(
        api, lambda_context, "PATCH", "/v1/tags/interest:pilates", {"name": "interest:reformer"}, groups="admin"
    )
    assert status == 202 and body["state"] == "renaming" and body["moved"] == 10
    assert drain_pass_queue(lambda_context) == 2
    assert wiring.tagging.memberships().count("interest:reformer") == 25
    assert wiring.tagging.catalog().get("interest:pilates") is None


def test_deleting_a_tag_removes_its_memberships_but_not_one_a_rule_sets(api, lambda_context, asha):
    from engage import wiring

    call(api, lambda_context, "POST", "/v1/tags", {"name": "power:premium-plus"}, groups="admin")
    wiring.tagging.memberships().add(asha.id, "power:premium-plus", since=NOW, source="import")
    status, body = call(
        api, lambda_context, "DELETE", "/v1/tags/power:premium-plus", groups="admin", query={"reason": "unused"}
    )
    assert (status, body["removed"]) == (200, 1)
    assert wiring.tagging.memberships().of_customer(asha.id) == []
    status, body = call(api, lambda_context, "DELETE", "/v1/tags/intent:high", groups="admin")
    assert (status, body["error"]["code"]) == (409, "tag_in_use")


def test_bulk_filters_then_adds_and_removes(api, lambda_context):
    from engage import wiring

    call(api, lambda_context, "POST", "/v1/tags", {"name": "interest:shoes"}, groups="admin")
    call(api, lambda_context, "POST", "/v1/tags", {"name": "power:vip-list"}, groups="admin")
    for n in range(6):
        wiring.tagging.memberships().add(f"c_{n:032x}", "interest:shoes", since=NOW, source="import")
    wiring.tagging.memberships().add(f"c_{0:032x}", "power:premium", since=NOW, source="import")
    request = {"filter": {"all_of": ["interest:shoes"], "none_of": ["power:premium"]}, "add": ["power:vip-list"]}
    status, body = call(api, lambda_context, "POST", "/v1/tags/bulk", {**request, "dry_run": True})
    assert body == {"matched": 5, "added": 0, "removed": 0, "dry_run": True}
    status, body = call(api, lambda_context, "POST", "/v1/tags/bulk", request)
    assert (status, body["added"]) == (200, 5)
    assert call(api, lambda_context, "POST", "/v1/tags/bulk", request)[1]["added"] == 0  # already there
    status, body = call(api, lambda_context, "POST", "/v1/tags/bulk", {"filter": {}, "add": ["power:vip-list"]})
    assert (status, body["error"]["code"]) == (400, "bad_filter")


def test_health_reports_size_overloaded_and_silent_tags(api, lambda_context, asha):
    from engage import wiring

    wiring.tagging.memberships().add(asha.id, "interest:cosmetics", since=NOW, source="rule:bh-interest-category")
    status, report = call(api, lambda_context, "GET", "/v1/tags/health")
    assert status == 200 and report["status"] == "small" and report["customers"] == 1
    assert [o["name"] for o in report["overloaded"]] == ["interest:cosmetics"]
    assert "split it into at least 3" in report["overloaded"][0]["suggestion"]


def test_a_bad_rule_is_refused_with_the_reason(api, lambda_context):
    cases = [
        ({"type": "keyword", "name": "x", "tag": "interest:x", "keywords": []}, "keywords"),
        ({"type": "behaviour", "name": "x", "tag": "intent:x", "event": "link_clicked", "min_count": 2}, "window_days"),
        ({"type": "behaviour", "name": "x", "tag": "interest:{colour}", "event": "product_viewed", "min_count": 2,
          "window_days": 7}, "{colour}"),
        ({"type": "keyword", "name": "x", "tag": "interest:cosmetics-x", "keywords": ["a"], "extra": 1}, "extra"),
        ({"type": "magic", "name": "x", "tag": "interest:x"}, "type"),
        ({"type": "keyword", "name": "x", "tag": "mood:x", "keywords": ["a"]}, "unknown dimension"),
    ]  # fmt: skip
    for rule, reason in cases:
        status, body = call(api, lambda_context, "POST", "/v1/rules", rule)
        assert status == 400 and body["error"]["code"] in ("bad_rule", "unknown_dimension")
        assert reason in body["error"]["message"], (rule, body)


def test_rules_are_created_edited_switched_off_and_defaults_are_not_deleted(api, lambda_context):
    rule = {
        "type": "keyword",
        "name": "Gift seekers",
        "tag": "interest:gifts",
        "keywords": ["gift", "Geschenk", "подарок"],
    }
    status, created = call(api, lambda_context, "POST", "/v1/rules", rule)
    assert status == 201 and created["id"] == "gift-seekers"
    status, updated = call(api, lambda_context, "PUT", "/v1/rules/gift-seekers", {**rule, "enabled": False})
    assert status == 200 and updated["enabled"] is False
    status, off = call(
        api,
        lambda_context,
        "PUT",
        "/v1/rules/bh-intent-high",
        {**call(api, lambda_context, "GET", "/v1/rules/bh-intent-high")[1], "enabled": False},
    )
    assert status == 200 and off["enabled"] is False and off["default"] is True
    assert call(api, lambda_context, "DELETE", "/v1/rules/bh-intent-high")[1]["error"]["code"] == "default_rule"
    assert call(api, lambda_context, "DELETE", "/v1/rules/gift-seekers")[0] == 200
    assert call(api, lambda_context, "GET", "/v1/rules/gift-seekers")[0] == 404


def test_the_weekly_health_job_stores_its_report(api, lambda_context, asha):
    from engage import wiring
    from functions.scheduler import app as scheduler

    summary = scheduler.lambda_handler({"schedule": "tag-health", "now": "2026-11-23T03:00:00Z"}, lambda_context)
    assert summary["catalog_size"] == 20 and summary["status"] == "small"
    assert wiring.aws.table().get("CATALOG", "HEALTH")["report"]["customers"] == 1


@pytest.mark.parametrize(
    "query",
    [
        {"since": "0142-02-26T00:00:00Z"},
        {"since": "0001-01-01T00:00:00Z", "until": "0001-01-02T00:00:00Z"},
        {"until": "9999-12-31T23:59:59Z"},
        {"since": "1999-12-31T23:59:59+00:00"},
    ],
)
def test_a_tag_log_window_outside_the_years_the_log_can_hold_is_400(api, lambda_context, query):
    status, body = call(api, lambda_context, "GET", "/v1/tags/log", query=query)
    assert status == 400 and body["error"]["code"] == "bad_query"

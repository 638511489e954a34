"""The marketer console in Chromium: sign in, write a segment, run an A/B campaign, see it in the
funnel and retarget it, import a CSV, and every page without a console error (screenshots go to
docs/console/)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engage.campaigns import dispatch
from engage.campaigns.campaign import Campaign
from tests.browser.conftest import MARKETER, Console, Server

pytestmark = pytest.mark.browser

PAGES = [
    ("/", "Overview", "overview"),
    ("/customers", "Customers", "customers"),
    ("/customers/4915120000000", "Lena Vogel", "customer"),
    ("/imports", "Imports", "imports"),
    ("/segments", "Segments", "segments"),
    ("/campaigns", "Campaigns", "campaigns"),
    ("/campaigns/new", "New campaign", "campaign-new"),
    ("/journeys", "Journeys", "journeys"),
    ("/rewards", "Rewards", "rewards"),
    ("/tags", "Tags", "tags"),
    ("/settings", "Settings", "settings"),
]


def chart_values(console: Console, chart_id: str) -> list[list[int]]:
    figure = console.page.locator(f"#{chart_id}")
    figure.wait_for()
    console.page.wait_for_function(f"document.getElementById('{chart_id}').dataset.values !== undefined")
    return json.loads(figure.get_attribute("data-values") or "[]")


def test_a_wrong_token_is_refused_with_what_to_do_and_a_right_one_signs_in(browser: Any, server: Server):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{server.url}/app/")
        page.get_by_label("Token").fill("not-a-token")
        page.get_by_role("button", name="Sign in").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "sign in again" in alert.inner_text().lower()
        page.get_by_label("Token").fill("local-marketer-token")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Overview", level=1).wait_for()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in", level=1).wait_for()
    finally:
        context.close()


def test_the_segment_count_follows_the_rule_while_typing_and_errors_point_at_their_place(
    marketer: Console, server: Server
):
    page = marketer.page
    marketer.open("/segments")
    rule = page.get_by_label("Rule")
    count = page.locator("#segment-count")
    rule.fill("country:DE")
    page.wait_for_function("document.getElementById('segment-count').dataset.count === '12'")
    rule.press("End")
    rule.type(" AND consent:marketing", delay=15)
    page.wait_for_function("document.getElementById('segment-count').dataset.count === '10'")
    assert count.inner_text() == "10"

    rule.fill("country:DE AND consent:marketng")  # a typo: shown at its place, with a suggestion
    problem = page.locator("#rule-problems [role=alert]")
    problem.wait_for()
    assert "at character 16" in problem.inner_text()
    assert page.locator(".rule-pointer mark").inner_text() == "c"
    assert rule.get_attribute("aria-invalid") == "true"
    page.get_by_role("button", name="marketing", exact=True).click()
    page.wait_for_function("document.getElementById('segment-count').dataset.count === '10'")
    assert rule.input_value() == "country:DE AND consent:marketing"

    page.get_by_label("Name").fill("Opted-in Germans")
    page.get_by_role("button", name="Save segment").click()
    page.get_by_text("Segment saved: Opted-in Germans (10)").wait_for()
    page.get_by_role("button", name="Opted-in Germans").wait_for()
    for days_ago in (2, 1, 0):  # the nightly job keeps one size a day: three nights of history
        night = (server_clock_in_window() - timedelta(days=days_ago + 1)).replace(hour=2, minute=0)
        server.client.post("/_local/schedules/segment-sizes", params={"now": night.strftime("%Y-%m-%dT%H:%M:%SZ")})
    page.get_by_role("button", name="Opted-in Germans").click()
    assert chart_values(marketer, "sizes-chart") == [[10, 10, 10]]
    marketer.screenshot("segments")
    assert marketer.errors == []


def test_an_ab_campaign_is_launched_drained_and_its_sends_show_in_the_funnels(marketer: Console, server: Server):
    page = marketer.page
    marketer.open("/campaigns/new")
    page.get_by_label("Name").fill("Spring A/B")
    page.get_by_label("Audience").select_option(label="Opted-in Germans (10)")
    page.locator("#template-A").select_option("console_spring_offer|en")
    assert page.get_by_label("Parameter {{1}}").first.input_value() == "{{name}}"
    page.get_by_label("Coupon code").fill("SPRING15")
    page.get_by_label("Link").fill("https://shop.example/spring")
    preview = page.locator(".phone").first
    assert "Hi Lena Vogel, spring picks are in." in preview.inner_text()
    assert "SPRING15" in preview.inner_text()
    page.get_by_label("A/B test with a second variant").check()
    page.locator("#template-B").select_option("console_spring_offer|en")
    page.locator("#param-B-1").fill("{{first_name}}")
    page.get_by_label("Test sample (%)").fill("100")
    page.get_by_label("Test window (minutes)").fill("30")
    marketer.screenshot("campaign-new")
    page.get_by_role("button", name="Create campaign").click()
    page.get_by_role("heading", name="Spring A/B", level=1).wait_for()
    assert "draft" in page.locator(".actions .badge").inner_text()

    server.set_clock(server_clock_in_window())
    page.get_by_role("button", name="Launch").click()
    page.get_by_text("Launch: done").wait_for()
    server.drain()
    campaign = server.client.get("/v1/campaigns", headers=MARKETER).json()["campaigns"][0]
    metrics = server.client.get(f"/v1/campaigns/{campaign['id']}/metrics", headers=MARKETER).json()
    assert metrics["sent"] == 10, metrics  # the whole audience is the A/B test sample
    page.reload()
    page.wait_for_load_state("networkidle")
    sent = chart_values(marketer, "campaign-funnel")[0][0]
    assert sent == metrics["sent"]
    # Each customer's variant is a hash of (campaign, customer): work the split out the same way, so
    # the rare campaign id that puts all 10 in one variant is expected rather than a failure.
    members = server.client.get(
        "/v1/customers", params={"segment_id": campaign["segment_id"], "limit": 50}, headers=MARKETER
    ).json()["customers"]
    split = Counter(dispatch.test_variant(Campaign.model_validate(campaign), m["id"]) for m in members)
    assert {v: c["sent"] for v, c in metrics["variants"].items()} == dict(split), metrics
    if len(split) == 2:
        variants = chart_values(marketer, "variant-funnels")
        assert [v[0] for v in variants] == [split[name] for name in sorted(split)]
    marketer.screenshot("campaign")

    marketer.open("/")
    funnel = chart_values(marketer, "funnel-chart")[0]
    assert funnel[0] >= metrics["sent"]  # sent, all campaigns of the last 30 days
    assert funnel[1] >= 1  # delivered: the fake WhatsApp confirmed them
    assert page.locator("[data-metric=sent] .count-value").inner_text() == str(funnel[0])
    marketer.screenshot("overview")
    assert marketer.errors == []

    # Retargeting: once the campaign is over, a round for those who did not click its link.
    marketer.open(f"/campaigns/{campaign['id']}")
    page.get_by_role("button", name="Cancel campaign").click()
    page.get_by_label("Who", exact=True).select_option(label="Did not click its link")
    page.get_by_label("Hours after their send").fill("48")
    page.get_by_role("button", name="Plan the round").click()
    page.get_by_role("heading", name="Spring A/B (round 1: not clicked)", level=1).wait_for()
    assert "draft" in page.locator(".actions .badge").inner_text()
    rounds = [c for c in server.client.get("/v1/campaigns", headers=MARKETER).json()["campaigns"] if c["round"] == 1]
    assert [(r["follow_up_of"], r["retarget"]) for r in rounds] == [
        (campaign["id"], {"audience": "not_clicked", "after_hours": 48.0})
    ]
    # A campaign has one round: asking again says which one it is.
    marketer.open(f"/campaigns/{campaign['id']}")
    page.get_by_role("button", name="Plan the round").click()
    page.get_by_text(f"already has its follow-up round {rounds[0]['id']}").wait_for()
    assert marketer.errors == []


def server_clock_in_window() -> datetime:
    """10:30 UTC tomorrow: 11:30 in Berlin, inside the 10-12 send window."""
    return (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)


def test_a_csv_import_shows_its_report_with_the_failed_rows(marketer: Console, server: Server, tmp_path):
    probe = server.client.get("/v1/imports/imp_none", headers=MARKETER)
    if probe.status_code == 404 and "error" not in probe.json():
        pytest.skip("this server has no /v1/imports route yet (the imports branch adds it)")
    csv = tmp_path / "customers.csv"
    csv.write_text("phone,name,consent\n+4915120000100,Anna,yes\nnot-a-number,Bad,yes\n+4915120000100,Anna again,yes\n")
    page = marketer.page
    marketer.open("/imports")
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload and import").click()
    server.drain()
    page.locator(".report[data-state=done]").wait_for(timeout=60_000)
    assert page.locator(".import-imported").inner_text() == "1"
    assert page.locator(".import-failed").inner_text() != "0"
    marketer.screenshot("imports-report")
    assert marketer.errors == []


# Taken by the tests above, with a rule typed, a campaign filled in and sends in the funnel.
FLOW_SHOTS = {"segments", "campaign-new", "overview"}


@pytest.mark.parametrize(("path", "heading", "shot"), PAGES, ids=[p[2] for p in PAGES])
def test_every_page_renders_without_console_errors(admin: Console, path: str, heading: str, shot: str):
    admin.open(path)
    admin.page.get_by_role("heading", name=heading, level=1).wait_for()
    admin.page.wait_for_function("!document.querySelector('main .loading')")
    if shot not in FLOW_SHOTS:
        admin.screenshot(shot)
    assert admin.errors == []


def test_the_console_speaks_german_and_keeps_keyboard_focus_on_the_page_heading(marketer: Console):
    page = marketer.page
    marketer.open("/")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("heading", name="Übersicht", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_role("link", name="Kampagnen").click()
    heading = page.get_by_role("heading", name="Kampagnen", level=1)
    heading.wait_for()
    page.wait_for_function("document.activeElement.tagName === 'H1'")  # screen readers start there
    page.get_by_label("Sprache").select_option("en")
    assert marketer.errors == []

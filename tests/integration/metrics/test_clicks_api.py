"""GET /r/{code} through the api handler on moto: redirect, UTM, records, bots, 404s."""

from __future__ import annotations

import copy
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import load_event
from tests.helpers.send_streams import StreamPump, send_item
from tests.integration.metrics.conftest import campaign_counts

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0.0.0 Mobile Safari/537.36"


def click_event(code: str, *, request_id: str = "req-1", agent: str = PHONE, method: str = "GET") -> dict:
    event = copy.deepcopy(load_event("api/click"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/dev/r/{code}"
    event["pathParameters"] = {"code": code}
    event["requestContext"]["requestId"] = request_id
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = f"{method} /r/{{code}}"
    event["headers"]["user-agent"] = event["requestContext"]["http"]["userAgent"] = agent
    return event


@pytest.fixture
def link(aws, monkeypatch):
    """A sent campaign message to c_1 with one tracked link; returns the link code."""
    from engage import wiring

    monkeypatch.setenv("ENGAGE_LINK_BASE_URL", "https://go.shop.example")
    wiring.aws.table().put(
        send_item("c_1", "cmp_1", variant="B", state="sent", status="delivered", sent_at="2026-11-22T18:00:00Z")
    )
    from engage.core.time import utcnow

    url = wiring.metrics.link_shortener().shorten(
        "c_1", "cmp_1", "B", "new arrivals", "https://shop.example/new?ref=wa&utm_source=mail#top", utcnow()
    )
    assert url.startswith("https://go.shop.example/r/")
    return url.rsplit("/", 1)[1]


def follow(event, lambda_context):
    from functions.api import app

    return app.lambda_handler(event, lambda_context)


def test_a_click_redirects_with_utm_and_records_everything_once(aws, link, lambda_context):
    from engage import wiring

    pump = StreamPump(aws.stream_arn)
    # When a phone follows the link, and the same request is retried
    first = follow(click_event(link), lambda_context)
    follow(click_event(link), lambda_context)
    # Then it is redirected with our UTM parameters (the mail utm_source replaced), fragment kept
    assert first["statusCode"] == 302
    location = first["headers"]["Location"]
    parts = urlsplit(location)
    assert (parts.netloc, parts.path, parts.fragment) == ("shop.example", "/new", "top")
    assert parse_qsl(parts.query) == [
        ("ref", "wa"),
        ("utm_source", "whatsapp"),
        ("utm_medium", "message"),
        ("utm_campaign", "cmp_1"),
    ]
    # And the send is marked clicked, with one history event for the tagging rules
    table = wiring.aws.table()
    assert table.get("CUST#c_1", "SEND#cmp_1")["clicked_at"]
    events = list(table.query("CUST#c_1", sk_prefix="EVT#"))
    assert len(events) == 1 and events[0]["kind"] == "link_clicked"
    assert events[0]["data"] == {
        "label": "new arrivals",
        "target": "https://shop.example/new?ref=wa&utm_source=mail#top",
        "campaign_id": "cmp_1",
        "variant": "B",
        "code": link,
    }
    # And a second click by the same person is a click but not a new unique click
    follow(click_event(link, request_id="req-2"), lambda_context)
    from functions.metrics import app as metrics_app

    for event in pump.events():
        metrics_app.lambda_handler(event, lambda_context)
    counts = campaign_counts()
    assert (counts["clicks"], counts["clicked"]) == (2, 1)
    rows = wiring.metrics.counters().campaign_rows("cmp_1")
    assert {(r["day"], r["variant"]) for r in rows} == {("2026-11-22", "B")}  # the send's cohort day
    assert table.get(f"LINK#{link}", "LINK")["clicks"] == 2


@pytest.mark.parametrize(
    "agent,method",
    [
        ("WhatsApp/2.24.22.79 A", "GET"),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "GET"),
        (PHONE, "HEAD"),
    ],
)
def test_previewers_and_head_requests_are_redirected_but_not_counted(aws, link, lambda_context, agent, method):
    from engage import wiring

    response = follow(click_event(link, agent=agent, method=method), lambda_context)
    assert response["statusCode"] == 302
    table = wiring.aws.table()
    assert "clicked_at" not in table.get("CUST#c_1", "SEND#cmp_1")
    assert not list(table.query("CUST#c_1", sk_prefix="EVT#"))
    assert campaign_counts() == {}
    assert table.get(f"LINK#{link}", "LINK")["bot_hits"] == 1


def test_unknown_and_expired_codes_get_a_friendly_404_and_record_nothing(aws, link, lambda_context):
    from engage import wiring
    from engage.adapters.dynamo.table import Update

    unknown = follow(click_event("Zz9Zz9Zz"), lambda_context)
    assert unknown["statusCode"] == 404 and "no longer available" in unknown["body"]
    assert unknown["headers"]["Content-Type"].startswith("text/html")
    table = wiring.aws.table()
    table.update(f"LINK#{link}", "LINK", Update().set(expires_at=1))
    expired = follow(click_event(link), lambda_context)
    assert expired["statusCode"] == 404
    assert "clicked_at" not in table.get("CUST#c_1", "SEND#cmp_1")
    assert campaign_counts() == {}


def test_bad_targets_are_refused_by_the_shortener(aws, monkeypatch):
    from engage import wiring
    from engage.core.errors import Invalid
    from engage.core.time import utcnow

    monkeypatch.setenv("ENGAGE_LINK_BASE_URL", "https://go.shop.example")
    with pytest.raises(Invalid):
        wiring.metrics.link_shortener().shorten("c_1", "cmp_1", "A", "x", "javascript:alert(1)", utcnow())


def test_a_click_on_a_link_without_a_send_item_still_counts_the_click(aws, lambda_context):
    from engage import wiring
    from engage.core.time import utcnow
    from engage.metrics.links import create_tracked_link

    code = create_tracked_link(
        wiring.metrics.links(), customer_id="c_7", campaign_id="cmp_2", variant=None, label="x",
        target="https://shop.example", now=utcnow(),
    )  # fmt: skip
    assert follow(click_event(code), lambda_context)["statusCode"] == 302
    assert wiring.aws.table().get("CUST#c_7", "SEND#cmp_2") is None  # no stub send item
    assert campaign_counts("cmp_2") == {"clicks": 1}

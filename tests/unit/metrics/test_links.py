"""Tracked links: creation refuses bad targets, redirects merge UTM, bots are not clicks."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from engage.core.errors import Invalid
from engage.core.time import parse_iso
from engage.metrics.links import (
    Click,
    TrackedLink,
    TrackedLinkShortener,
    create_tracked_link,
    follow_link,
    is_bot,
    validate_target,
    with_utm,
)

NOW = parse_iso("2026-11-23T10:00:00Z")
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


class FakeLinkStore:
    def __init__(self, send: dict | None = None) -> None:
        self.links: dict[str, TrackedLink] = {}
        self.clicks: dict[str, Click] = {}
        self.bot_hits = 0
        self.send = send
        self.clicked_at: str | None = None

    def create(self, link):
        if link.code in self.links:
            return False
        self.links[link.code] = link
        return True

    def get(self, code):
        return self.links.get(code)

    def mark_clicked(self, customer_id, send_key, at):
        if self.send is None:
            return None
        self.clicked_at = self.clicked_at or at.isoformat()
        return self.send

    def record_click(self, click):
        if click.click_id in self.clicks:
            return False
        self.clicks[click.click_id] = click
        return True

    def record_bot_hit(self, code, at):
        self.bot_hits += 1


def make_link(store, target="https://shop.example/new?ref=wa#top", **kw) -> str:
    args = {"customer_id": "c_1", "campaign_id": "cmp_1", "variant": "A", "label": "new arrivals", "now": NOW}
    return create_tracked_link(store, target=target, **{**args, **kw})


@pytest.mark.parametrize(
    "target",
    [
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "/relative/path",
        "ftp://shop.example/file",
        "https://",
        "https://user:pass@shop.example/",
        "https://shop.example/a b",
        "https://shop.example/\x00",
        "https://shop.example:99999/",
        "https://[::1/",
        "https://shop.example/" + "x" * 2048,
    ],
)
def test_bad_targets_are_refused_at_creation(target):
    with pytest.raises(Invalid):
        make_link(FakeLinkStore(), target=target)


def test_good_targets_are_kept_as_written():
    assert validate_target(" https://Shop.example/p?id=1&x=%20#frag ") == "https://Shop.example/p?id=1&x=%20#frag"


def test_utm_is_added_and_existing_query_and_fragment_are_kept():
    url = with_utm("https://shop.example/new?ref=wa&q=a%20b+c#top", "cmp_1")
    assert url == (
        "https://shop.example/new?ref=wa&q=a%20b+c&utm_source=whatsapp&utm_medium=message&utm_campaign=cmp_1#top"
    )


def test_our_utm_parameters_override_and_other_utm_parameters_stay():
    url = with_utm("https://shop.example/?utm_source=newsletter&UTM_MEDIUM=email&utm_content=hero&a=1", "spring sale")
    query = parse_qsl(urlsplit(url).query)
    assert query == [
        ("utm_content", "hero"),
        ("a", "1"),
        ("utm_source", "whatsapp"),
        ("utm_medium", "message"),
        ("utm_campaign", "spring sale"),
    ]


def test_utm_on_a_bare_url_and_without_campaign():
    assert with_utm("https://shop.example", None) == "https://shop.example?utm_source=whatsapp&utm_medium=message"


@pytest.mark.parametrize(
    "method,agent,headers,bot",
    [
        ("GET", PHONE, None, False),
        ("HEAD", PHONE, None, True),
        ("GET", "WhatsApp/2.23.20.0 A", None, True),
        ("GET", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", None, True),
        ("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", None, True),
        ("GET", "TelegramBot (like TwitterBot)", None, True),
        ("GET", "curl/8.5.0", None, True),
        ("GET", "", None, True),
        ("GET", PHONE, {"Sec-Purpose": "prefetch;prerender"}, True),
    ],
)
def test_bots_and_prefetchers_are_recognised(method, agent, headers, bot):
    assert is_bot(method, agent, headers) is bot


def test_a_human_click_is_recorded_once_and_redirected():
    store = FakeLinkStore(send={"sent_at": "2026-11-22T18:00:00Z", "segment_id": "seg_vip"})
    code = make_link(store)
    first = follow_link(store, code, method="GET", user_agent=PHONE, click_id="req-1", now=NOW)
    again = follow_link(store, code, method="GET", user_agent=PHONE, click_id="req-1", now=NOW)
    assert first.counted and not again.counted
    assert first.location.startswith("https://shop.example/new?ref=wa&utm_source=whatsapp")
    click = store.clicks["req-1"]
    assert (click.day, click.segment_id, click.link.label) == ("2026-11-22", "seg_vip", "new arrivals")
    assert store.clicked_at is not None


def test_a_bot_is_redirected_but_not_counted():
    store = FakeLinkStore(send={"sent_at": "2026-11-23T09:00:00Z"})
    code = make_link(store)
    outcome = follow_link(store, code, method="GET", user_agent="WhatsApp/2.24.1 i", click_id="req-2", now=NOW)
    assert outcome.bot and outcome.location and not outcome.counted
    assert store.bot_hits == 1 and not store.clicks and store.clicked_at is None


def test_unknown_malformed_and_expired_codes_record_nothing():
    store = FakeLinkStore(send={})
    code = make_link(store, ttl_days=1)
    for bad in ("zzzzzzzz", "../../etc", ""):
        assert follow_link(store, bad, method="GET", user_agent=PHONE, click_id="r", now=NOW).location is None
    later = NOW + timedelta(days=1)
    assert follow_link(store, code, method="GET", user_agent=PHONE, click_id="r", now=later).location is None
    assert not store.clicks and store.bot_hits == 0


def test_shortener_builds_the_public_url_and_retries_a_taken_code(monkeypatch):
    store = FakeLinkStore()
    codes = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    monkeypatch.setattr("engage.metrics.links.new_code", lambda: next(codes))
    shortener = TrackedLinkShortener(store, "https://go.shop.example/")
    assert (
        shortener.shorten("c_1", "cmp_1", "A", "hero", "https://shop.example", NOW)
        == "https://go.shop.example/r/AAAAAAAA"
    )
    assert (
        shortener.shorten("c_2", "cmp_1", "B", "hero", "https://shop.example", NOW)
        == "https://go.shop.example/r/BBBBBBBB"
    )
    assert store.links["BBBBBBBB"].send_key == "cmp_1"

"""Tracked links: short codes in messages, `GET /r/{code}` records the click and redirects.

A link belongs to one customer and one send (the campaign's send key by default), so a click
knows who clicked what: it stamps `clicked_at` on the send item (the metrics stream counts the
unique click from that), adds one to the campaign's total clicks, and writes a `link_clicked`
history event that the tagging rules read. Prefetchers and crawlers are redirected like anyone
else but recorded only as bot hits on the link.

UTM decision (docs/metrics.md): the three parameters we own (`utm_source`, `utm_medium`,
`utm_campaign`) override whatever the target had, so every WhatsApp click is attributed to
WhatsApp; every other parameter (other `utm_*` included) and the fragment are kept as written.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from pydantic import BaseModel

from engage.core.errors import Invalid
from engage.core.time import epoch, iso
from engage.metrics.ports import LinkStore

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 8  # 62^8 = 2.2e14 codes: collisions are retried, guessing is hopeless
CODE_PATTERN = re.compile(rf"^[A-Za-z0-9]{{{CODE_LENGTH}}}$")
MAX_TARGET_LENGTH = 2048
UTM_SOURCE, UTM_MEDIUM = "whatsapp", "message"
OWNED_UTM = ("utm_source", "utm_medium", "utm_campaign")

# User agents of link previewers (WhatsApp and Facebook fetch every link for its preview),
# crawlers and scripts. Lower-case substrings.
BOT_AGENTS = (
    "facebookexternalhit",
    "facebot",
    "whatsapp/",
    "meta-externalagent",
    "twitterbot",
    "slackbot",
    "telegrambot",
    "linkedinbot",
    "discordbot",
    "skypeuripreview",
    "googlebot",
    "adsbot",
    "bingbot",
    "applebot",
    "yandex",
    "baiduspider",
    "duckduckbot",
    "petalbot",
    "embedly",
    "bot/",
    "crawler",
    "spider",
    "headlesschrome",
    "python-requests",
    "python-httpx",
    "curl/",
    "wget/",
    "go-http-client",
)
PREFETCH_HEADERS = ("purpose", "sec-purpose", "x-purpose", "x-moz")


class TrackedLink(BaseModel):
    code: str
    customer_id: str
    campaign_id: str | None = None
    variant: str | None = None
    label: str = ""
    target: str
    send_key: str | None = None
    created_at: str
    expires_at: int  # epoch seconds (also the table's TTL)

    def expired(self, now: datetime) -> bool:
        return epoch(now) >= self.expires_at


@dataclass(frozen=True)
class Click:
    click_id: str
    link: TrackedLink
    at: datetime
    day: str  # cohort day of the send clicked (its sent_at), else the click's day
    segment_id: str | None


@dataclass(frozen=True)
class Redirect:
    """What `GET /r/{code}` answers: a location (302) or None (friendly 404)."""

    location: str | None
    counted: bool = False
    bot: bool = False


# ---------------------------------------------------------------- creating links


def validate_target(target: str) -> str:
    """Only absolute http(s) URLs with a host, no credentials, no whitespace or control characters."""
    text = (target or "").strip()
    if not text or len(text) > MAX_TARGET_LENGTH:
        raise Invalid(f"a link target must be 1-{MAX_TARGET_LENGTH} characters", code="invalid_link")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise Invalid("a link target must not contain spaces or control characters", code="invalid_link")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise Invalid(f"not a valid URL: {text!r}", code="invalid_link") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid("a link target must be an absolute http(s) URL", code="invalid_link")
    if parts.username or parts.password or (port is not None and not 0 < port < 65536):
        raise Invalid("a link target must not carry credentials", code="invalid_link")
    return text


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_tracked_link(
    store: LinkStore,
    *,
    customer_id: str,
    campaign_id: str | None,
    variant: str | None,
    label: str,
    target: str,
    now: datetime,
    ttl_days: int = 90,
    send_key: str | None = None,
) -> str:
    """Creates a short tracked link and returns its code. Bad targets are refused (Invalid)."""
    link = TrackedLink(
        code=new_code(),
        customer_id=customer_id,
        campaign_id=campaign_id,
        variant=variant,
        label=(label or "").strip()[:100],
        target=validate_target(target),
        send_key=send_key or campaign_id,
        created_at=iso(now),
        expires_at=epoch(now + timedelta(days=ttl_days)),
    )
    for _ in range(5):
        if store.create(link):
            return link.code
        link = link.model_copy(update={"code": new_code()})
    raise RuntimeError("could not find a free link code in 5 tries")


class TrackedLinkShortener:
    """The `LinkShortener` port: what the sender calls while rendering a message."""

    def __init__(self, store: LinkStore, base_url: str, *, ttl_days: int = 90):
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.ttl_days = ttl_days

    def shorten(
        self,
        customer_id: str,
        campaign_id: str | None,
        variant: str | None,
        label: str,
        target: str,
        now: datetime,
        send_key: str | None = None,
    ) -> str:
        code = create_tracked_link(
            self.store,
            customer_id=customer_id,
            campaign_id=campaign_id,
            variant=variant,
            label=label,
            target=target,
            now=now,
            ttl_days=self.ttl_days,
            send_key=send_key,
        )
        return f"{self.base_url}/r/{code}"


# ---------------------------------------------------------------- following links


def is_bot(method: str, user_agent: str | None, headers: dict[str, str] | None = None) -> bool:
    """Prefetchers, previewers, crawlers and scripts: HEAD requests, known agents, prefetch hints."""
    if method.upper() != "GET":
        return True
    agent = (user_agent or "").lower()
    if not agent or any(marker in agent for marker in BOT_AGENTS):
        return True
    hints = {k.lower(): str(v).lower() for k, v in (headers or {}).items()}
    return any("prefetch" in hints.get(name, "") or "preview" in hints.get(name, "") for name in PREFETCH_HEADERS)


def with_utm(target: str, campaign: str | None) -> str:
    """`target` with our UTM parameters: ours replace same-named ones, the rest is kept byte for byte."""
    parts = urlsplit(target)
    kept = [p for p in parts.query.split("&") if p and unquote_plus(p.split("=", 1)[0]).lower() not in OWNED_UTM]
    ours = [("utm_source", UTM_SOURCE), ("utm_medium", UTM_MEDIUM)]
    if campaign:
        ours.append(("utm_campaign", campaign))
    kept += [f"{key}={quote(value, safe='')}" for key, value in ours]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))


def follow_link(
    store: LinkStore,
    code: str,
    *,
    method: str,
    user_agent: str | None,
    click_id: str,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> Redirect:
    """Resolves a code; a human click is recorded once (per click id), a bot hit only noted."""
    link = store.get(code) if CODE_PATTERN.match(code or "") else None
    if link is None or link.expired(now):
        return Redirect(location=None)
    location = with_utm(link.target, link.campaign_id)
    if is_bot(method, user_agent, headers):
        store.record_bot_hit(code, now)
        return Redirect(location=location, bot=True)
    send = store.mark_clicked(link.customer_id, link.send_key, now) if link.send_key else None
    sent_at = str((send or {}).get("sent_at") or "")
    click = Click(
        click_id=click_id,
        link=link,
        at=now,
        day=sent_at[:10] if len(sent_at) >= 10 else iso(now)[:10],
        segment_id=(send or {}).get("segment_id"),
    )
    return Redirect(location=location, counted=store.record_click(click))


NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Link not available</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}</style></head>
<body><h1>This link is no longer available</h1>
<p>The offer behind it may have ended, or the link was copied incompletely.</p>
<p>Reply to our WhatsApp message and we will gladly help you.</p></body></html>
"""

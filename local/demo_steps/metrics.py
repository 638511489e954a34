"""Demo step (metrics): follow a tracked link like a phone and like WhatsApp's previewer, run the
hourly metric job a day later, and end with the campaign report as a readable table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from engage.metrics.reports import format_campaign_report

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0.0.0 Mobile Safari/537.36"
PREVIEWER = "WhatsApp/2.24.22.79 A"
LINK = re.compile(r"/r/([A-Za-z0-9]{8})\b")


def tracked_codes(demo: Any) -> list[str]:
    """Codes of the tracked links the fake WhatsApp received."""
    text = str(demo.outbox())
    return list(dict.fromkeys(LINK.findall(text)))


def latest_campaign(demo: Any) -> str | None:
    response = demo.client.get("/v1/campaigns", headers=demo.marketer)
    if response.status_code != 200:
        return None
    body = response.json()
    items = body.get("campaigns", body.get("items", [])) if isinstance(body, dict) else body
    return items[-1]["id"] if items else None


def run(demo: Any) -> None:
    codes = tracked_codes(demo)
    for code in codes[:3]:
        preview = demo.client.get(f"/r/{code}", headers={"user-agent": PREVIEWER}, follow_redirects=False)
        click = demo.client.get(f"/r/{code}", headers={"user-agent": PHONE}, follow_redirects=False)
        demo.say(f"/r/{code}: previewer {preview.status_code} (not counted), phone {click.status_code} -> "
                 f"{click.headers.get('location')}")  # fmt: skip
    if not codes:
        demo.say("no tracked links in the outbox; skipping clicks")
    demo.drain()
    now = demo.now() if hasattr(demo, "now") else datetime.now(UTC)
    tomorrow = (now + timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    demo.schedule("metric-alerts", tomorrow)
    alerts = demo.client.get("/v1/alerts", headers=demo.marketer).json().get("alerts", [])
    demo.say(f"open alerts: {', '.join(a['title'] for a in alerts if a['status'] == 'open') or 'none'}")
    campaign_id = latest_campaign(demo)
    if campaign_id is None:
        demo.say("no campaign to report on")
        return
    metrics = demo.client.get(f"/v1/campaigns/{campaign_id}/metrics", headers=demo.marketer).json()
    demo.say("\n" + format_campaign_report(metrics))

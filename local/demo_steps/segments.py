"""Demo step: preview the playbook's segment, see validation catch a typo, save the segment."""

from __future__ import annotations

from typing import Any

PLAYBOOK = "interest:cosmetics AND stage:purchased AND NOT product:lipstick"
FALLBACK = "consent:marketing AND last_interaction < 30d"  # needs no tag, always valid


def run(demo: Any) -> None:
    demo.say("Segments: who would a campaign reach?")
    rule, preview = PLAYBOOK, demo.client.post("/v1/segments/preview", json={"rule": PLAYBOOK}, headers=demo.marketer)
    if preview.status_code == 400:  # the demo data has no such tags: use an attribute rule
        demo.say(f"  {preview.json()['error']['message']}")
        rule = FALLBACK
        preview = demo.client.post("/v1/segments/preview", json={"rule": rule}, headers=demo.marketer)
    preview.raise_for_status()
    body = preview.json()
    names = ", ".join(c["name"] or c["wa_id"] or c["id"] for c in body["sample"][:5]) or "nobody yet"
    plan = body["plan"]["strategy"]
    demo.say(f"  preview {body['text']!r}: {body['count']} customers ({plan} plan, {body['took_ms']} ms)")
    demo.say(f"  sample: {names}")

    typo = demo.client.post(
        "/v1/segments/preview", json={"rule": "consent:marketing AND interest:cosmetic"}, headers=demo.marketer
    )
    error = typo.json()["error"]
    hints = ", ".join(error.get("details", {}).get("suggestions", [])) or "none"
    demo.say(f"  a typo is refused where it is: {typo.status_code} {error['message']}; did you mean: {hints}")

    saved = demo.client.post(
        "/v1/segments",
        json={"name": "High potential", "rule": rule, "description": "Playbook: cosmetics buyers without lipstick"},
        headers=demo.marketer,
    )
    if saved.status_code == 409:  # the demo ran before
        demo.say("  segment 'High potential' is saved already")
        return
    saved.raise_for_status()
    segment = demo.client.get(f"/v1/segments/{saved.json()['id']}", headers=demo.marketer).json()
    demo.say(f"  saved segment {segment['id']} '{segment['name']}': {segment['last_count']} customers now")

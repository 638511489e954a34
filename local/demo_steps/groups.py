"""Groups: the shop's VIPs invited into a circle of WhatsApp groups, joins, a post and the activity rate.

Nine VIPs (2+ orders in six months, average order 100+) fill the circle's first group (8) and open a
second one. Joining is what customers do in WhatsApp: here `POST /_local/groups/{id}/join` on the
fake, which sends the group webhooks Meta would send.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

CLOCK = datetime.fromisoformat("2026-12-02T09:30:00+00:00")  # a Wednesday, 10:30 in Berlin: in a send window
VIPS = [f"49151700000{n:02d}" for n in range(1, 10)]
STRANGER = "4917799999999"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shop_order(demo: Any, wa_id: str, n: int, when: datetime, total: float) -> None:
    item = {"product": "Trail runner", "category": "shoes", "price": total, "quantity": 1}
    data = {"order_id": f"G-{wa_id}-{n}", "items": [item], "total": total, "currency": "EUR"}
    demo.shop_event(wa_id, f"demo-group-order-{wa_id}-{n}", "order_placed", when, data)


def wa_group_of(demo: Any, group_id: str) -> str:
    group = demo.client.get(f"/v1/groups/{group_id}", headers=demo.marketer).json()
    demo.expect(group.get("wa_group_id"), f"group {group_id} was not created in WhatsApp: {group}")
    return str(group["wa_group_id"])


def local(demo: Any, wa_group: str, action: str, **params: str) -> dict[str, Any]:
    response = demo.client.post(f"/_local/groups/{wa_group}/{action}", params=params)
    demo.expect(response.status_code == 200, f"{action} answered {response.status_code}: {response.text}")
    return dict(response.json())


def run(demo: Any) -> None:
    if not (demo.has_function("SenderFunction") and demo.has_function("WebhookFunction")):
        demo.say("  (skipped: the sender and the webhook are needed)")
        return
    demo.set_clock(iso(CLOCK))
    demo.say("The sample shop's VIPs: nine customers with two orders of 100+ in the last six months.")
    for wa_id in VIPS:
        shop_order(demo, wa_id, 1, CLOCK - timedelta(days=70), 120.0)
        shop_order(demo, wa_id, 2, CLOCK - timedelta(days=12), 160.0)
        consent = demo.client.put(f"/v1/customers/{wa_id}/consent", json={"marketing": True}, headers=demo.marketer)
        demo.expect(consent.status_code == 200, f"consent answered {consent.status_code}: {consent.text}")
    demo.drain()
    ids = [demo.client.get(f"/v1/customers/{wa_id}", headers=demo.marketer).json()["id"] for wa_id in VIPS]

    circle = demo.client.post(
        "/v1/circles", json={"name": "VIP Circle", "description": "First looks and members-only offers"},
        headers=demo.marketer,
    )  # fmt: skip
    demo.expect(circle.status_code == 201, f"POST /v1/circles answered {circle.status_code}: {circle.text}")
    invite = demo.client.post("/v1/circles/vip-circle/invite", json={"customer_ids": ids}, headers=demo.marketer)
    demo.expect(invite.status_code == 200, f"invite answered {invite.status_code}: {invite.text}")
    report = invite.json()
    groups = sorted(
        {entry["group_id"] for entry in report["invited"]}, key=[e["group_id"] for e in report["invited"]].index
    )
    demo.say(f"  invited {len(report['invited'])} into {len(groups)} groups (8 per group): {groups}")
    demo.expect(len(groups) == 2, "the ninth VIP should open a second group")

    demo.drain()  # the sender creates the groups; their lifecycle webhooks bring the invite links
    sent = [m for m in demo.outbox() if m["type"] == "template" and "group_invite" in json.dumps(m["body"])]
    demo.say(f"  {len(sent)} invitations sent through the sender (invite template, link button, join code)")
    demo.expect(len(sent) == 9, f"expected 9 invitations, found {len(sent)}")

    first = wa_group_of(demo, groups[0])
    for wa_id in VIPS[:6]:
        local(demo, first, "join", wa_id=wa_id)
    held = local(demo, first, "join", wa_id=STRANGER)
    demo.drain()  # join requests -> approved for the invited -> joined -> tag group:vip-circle
    group = demo.client.get(f"/v1/groups/{groups[0]}", headers=demo.marketer).json()
    demo.say(f"  six VIPs joined; a stranger's request is {held['status']} and held: members {group['members']}")
    demo.expect(group["members"].get("joined") == 6, f"expected 6 joined members, got {group['members']}")
    tags = demo.client.get(f"/v1/customers/{VIPS[0]}/tags", headers=demo.marketer).json()
    demo.say(f"  {VIPS[0]} now holds: {', '.join(t['name'] for t in tags.get('tags', []))}")

    post = demo.client.post(
        f"/v1/groups/{groups[0]}/posts",
        json={"kind": "offer", "text": "Members only: 20% off the new trail runners until tomorrow.",
              "link": "https://shop.example/trail"},
        headers=demo.marketer,
    )  # fmt: skip
    demo.expect(post.status_code == 201, f"POST posts answered {post.status_code}: {post.text}")
    demo.schedule("group-posts", iso(CLOCK + timedelta(minutes=5)))
    demo.drain()
    posted = demo.client.get("/_local/groups").json()["sent"]
    demo.say(f"  posted to the group under the number's throughput: {posted[-1]['text']!r}")

    for wa_id in VIPS[:3]:
        local(demo, first, "message", wa_id=wa_id, text="Love these, ordering now!")
    demo.drain()
    day = iso(CLOCK)[:10]
    health = demo.client.get(f"/v1/groups/{groups[0]}/health", params={"day": day}, headers=demo.marketer).json()
    demo.say(
        f"  activity rate on {day}: {health['active']} of {health['members']} members wrote = "
        f"{health['activity_rate']:.0%} (healthy from 40%), joins {health['joins']}"
    )
    demo.expect(health["activity_rate"] == 0.5, f"expected 50% activity, got {health}")
    demo.set_clock(None)

"""Group posts: the weekly content plan and sending under the number's throughput.

The plan (DESIGN §4 "Groups", per group and week): exclusive offers 2 (valid 24 hours), product
stories 3, a practical tip daily, an interactive post 1, customer content 2. Interactive messages
(buttons, lists, polls made with them) are not allowed in groups, so the weekly interactive post
is a text question with numbered answers (members answer by writing or reacting, which also
counts as activity).

A due post is queued as a `post` call for the sender (engage.groups.worker), which books a slot on
the number's token bucket first (a group message counts against the number's throughput like any
other message; without a slot in time the call goes back to the queue) and sends it once. Offer
links are tracked links, one per post, so the group's click rate is clicks on offer links over
members.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from engage.core.errors import Conflict, Invalid
from engage.core.time import iso
from engage.groups.calls import GroupCall, queue_call
from engage.groups.models import Group, Post, PostKind
from engage.groups.ports import GroupsPorts

# kind -> weekdays (0 = Monday) and hour (UTC) of the playbook's week
WEEKLY_PLAN: dict[PostKind, tuple[tuple[int, ...], int]] = {
    "offer": ((1, 4), 17),
    "story": ((0, 2, 5), 12),
    "tip": ((0, 1, 2, 3, 4, 5, 6), 9),
    "interactive": ((3,), 18),
    "customer": ((2, 6), 15),
}
INTERACTIVE_HINT = "\n\nAnswer with the number of your choice."


def weekly_slots(week_start: datetime) -> list[tuple[PostKind, datetime]]:
    """The plan's (kind, time) slots of the week starting on `week_start`'s Monday, in time order."""
    monday = (week_start - timedelta(days=week_start.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    slots = [
        (kind, monday + timedelta(days=day, hours=hour))
        for kind, (weekdays, hour) in WEEKLY_PLAN.items()
        for day in weekdays
    ]
    return sorted(slots, key=lambda slot: slot[1])


def plan_counts() -> dict[str, int]:
    return {kind: len(weekdays) for kind, (weekdays, _) in WEEKLY_PLAN.items()}


def schedule_post(
    ports: GroupsPorts,
    group: Group,
    *,
    kind: PostKind,
    text: str,
    now: datetime,
    send_at: datetime | None = None,
    link: str | None = None,
    media_url: str | None = None,
) -> Post:
    if group.status == "closed":
        raise Conflict("the group is closed", code="group_closed")
    if kind == "interactive" and not any(ch.isdigit() for ch in text):
        raise Invalid(
            "interactive messages are not allowed in groups: write the question with numbered answers",
            code="interactive_not_allowed",
        )
    when = send_at or now
    config = ports.store.config()
    post = Post(
        id=f"p_{secrets.token_hex(6)}",
        group_id=group.id,
        circle_id=group.circle_id,
        kind=kind,
        text=text + (INTERACTIVE_HINT if kind == "interactive" and "number" not in text.lower() else ""),
        link=link,
        media_url=media_url,
        send_at=iso(when),
        valid_until=iso(when + timedelta(hours=config.offer_valid_hours)) if kind == "offer" else None,
    )
    ports.store.put_post(post)
    return post


def queue_due_posts(ports: GroupsPorts, now: datetime, limit: int = 500) -> dict[str, int]:
    """Hands every post whose time has come to the sender (a `post` call each, in time order)."""
    summary = {"queued": 0, "waiting": 0, "skipped": 0}
    for post in ports.store.due_posts(iso(now), limit):
        group = ports.store.get_group(post.group_id)
        if group is None or group.status == "closed":
            ports.store.update_post(post.model_copy(update={"status": "skipped", "error": "group_closed"}))
            summary["skipped"] += 1
        elif group.status != "active" or not group.wa_group_id:
            summary["waiting"] += 1  # pending or suspended: the next run looks again
        else:
            ports.store.update_post(post.model_copy(update={"status": "queued"}))
            queue_call(ports.queue, GroupCall(op="post", group_id=group.id, post_id=post.id))
            summary["queued"] += 1
    return summary

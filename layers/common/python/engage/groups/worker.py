"""The sender's side of the Groups API: makes one queued `GroupCall`.

Each call is safe to run again (SQS delivers at least once): a create that already has its request
id is not repeated, a post is claimed after its throughput slot is booked and before it is sent (at
most once: a crash after the claim leaves it `sending`, never sent twice), approvals and deletes
repeat harmlessly.
"""

from __future__ import annotations

from datetime import datetime

from engage.core.observability import logger
from engage.core.time import parse_iso
from engage.delivery.throttle import Rate, Throttle
from engage.groups.calls import GroupCall
from engage.groups.ports import WorkerPorts
from engage.groups.service import handle_notice
from engage.groups.webhooks import parse_group_value
from engage.metrics.links import create_tracked_link
from engage.metrics.ports import LinkStore


class SlotUnavailable(Exception):
    """No throughput slot in time: the post call goes back to the queue, nothing was sent."""


def execute(call: GroupCall, ports: WorkerPorts, now: datetime) -> str:
    store = ports.groups.store
    group = store.get_group(call.group_id)
    if group is None:
        return "unknown_group"
    api = ports.api
    if call.op == "create":
        if group.request_id:
            return "already_requested"
        request_id = api.create_group(group.subject, group.description, approval_required=True)
        store.update_group(group.id, request_id=request_id)
        parked = store.link_ref(request_id, group.id)
        if parked is not None:  # the webhook was faster than we were
            for notice in parse_group_value("group_lifecycle_update", {"groups": [parked]}):
                handle_notice(ports.groups, notice, now)
        return "requested"
    if not group.wa_group_id:
        return "group_pending"
    if call.op == "photo" and group.photo_url:
        api.set_photo(group.wa_group_id, group.photo_url)
    elif call.op == "reset_link":
        store.update_group(group.id, invite_link=api.invite_link(group.wa_group_id, reset=True))
    elif call.op == "approve" and call.request_ids:
        api.approve_join_requests(group.wa_group_id, call.request_ids)
    elif call.op == "delete":
        api.delete_group(group.wa_group_id)
    elif call.op == "post" and call.post_id:
        return send_post(ports, group.wa_group_id, call.group_id, call.post_id, now)
    return "done"


def send_post(ports: WorkerPorts, wa_group_id: str, group_id: str, post_id: str, now: datetime) -> str:
    store = ports.groups.store
    post = next((p for p in store.posts(group_id) if p.id == post_id), None)
    if post is None or post.status != "queued":
        return "not_queued"
    if post.kind == "offer" and post.valid_until and parse_iso(post.valid_until) <= now:
        store.update_post(post.model_copy(update={"status": "skipped", "error": "offer_expired"}))
        return "expired"
    if not ports.pacer.wait_for_slot():
        raise SlotUnavailable(post_id)
    if not store.claim_post(group_id, post_id):
        return "claimed_elsewhere"
    text, code = post.text, post.link_code
    if post.link and ports.links is not None:
        code, url = ports.links.tracked(group_id, post.id, post.link, now)
        text = f"{text}\n{url}"
    try:
        wamid = ports.api.send_text(wa_group_id, text, media_url=post.media_url)
    except Exception as error:  # refused (or unknown): marked, never resent blindly
        logger.warning("group post not sent", extra={"group_id": group_id, "post_id": post_id})
        store.update_post(post.model_copy(update={"status": "failed", "error": str(error)[:300]}))
        return "failed"
    store.update_post(post.model_copy(update={"status": "sent", "wamid": wamid, "link_code": code}))
    return "sent"


class NumberPacer:
    """Implements `PostPacer` on the sender's token bucket: a slot of the number's rate, the same
    bucket every 1:1 send books from (engage.delivery.throttle)."""

    def __init__(self, throttle: Throttle, rate: Rate):
        self.throttle, self.rate = throttle, rate

    def wait_for_slot(self) -> bool:
        booking = self.throttle.acquire([self.rate])
        if booking is None:
            return False
        self.throttle.wait_until(booking.at)
        return True


class GroupLinks:
    """Implements `LinkMaker` with the tracked links of engage.metrics.links: one link per post,
    owned by the group (`group:<id>`), its clicks counted on the link."""

    def __init__(self, store: LinkStore, base_url: str):
        self.store, self.base_url = store, base_url.rstrip("/")

    def tracked(self, group_id: str, post_id: str, target: str, now: datetime) -> tuple[str, str]:
        code = create_tracked_link(
            self.store,
            customer_id=f"group:{group_id}",
            campaign_id=f"group:{group_id}",
            variant=None,
            label=post_id,
            target=target,
            now=now,
            send_key=f"post:{post_id}",
        )
        return code, f"{self.base_url}/r/{code}"

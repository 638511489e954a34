"""The Groups API of the fake WhatsApp (local/fake_whatsapp.py): invite-only groups of at most 8
participants, invite links, join requests, group messages, and the four group webhook fields.

Graph endpoints (under /_fake/graph/<version>/, docs/groups.md has the real ones):
    POST   /{phone_number_id}/groups       -> {request_id}; then `group_lifecycle_update` (group_create)
    POST   /{group_id}                     settings (subject, description, photo) -> {success}
    GET    /{group_id}/invite_link         POST resets it (the old link stops working)
    POST   /{group_id}/join_requests       approves: the person joins (`group_participants_update`)
    DELETE /{group_id}                     `group_lifecycle_update` (group_delete)
    POST   /{phone_number_id}/messages     recipient_type "group" (text or media; interactive refused)

Local control (what a customer does in the WhatsApp app), under /_local/groups/{group_id}/:
    POST join?wa_id=     by the invite link: a join request (approval required) or a join
    POST leave?wa_id=    leaves (`group_participants_remove`, initiated by them)
    POST message?wa_id=&text=   writes in the group (a `messages` webhook with `group_id`)
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engage.core.time import utcnow

MAX_PARTICIPANTS = 8


class GroupsError(Exception):
    def __init__(self, code: int, message: str, http_status: int = 400):
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


@dataclass
class FakeGroup:
    id: str
    subject: str
    description: str
    approval_required: bool
    invite_link: str
    participants: list[str] = field(default_factory=list)
    join_requests: dict[str, str] = field(default_factory=dict)  # request id -> wa_id
    deleted: bool = False


class FakeGroups:
    def __init__(self, queue: Callable[[str, dict[str, Any]], None], wamid: Callable[[str], str]):
        """`queue(field, value)` queues a webhook; `wamid(recipient)` makes a message id."""
        self._queue, self._wamid = queue, wamid
        self._lock = threading.Lock()
        self.groups: dict[str, FakeGroup] = {}
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    @staticmethod
    def _now() -> str:
        return str(int(utcnow().timestamp()))

    def _group(self, group_id: str) -> FakeGroup:
        group = self.groups.get(group_id)
        if group is None or group.deleted:
            raise GroupsError(100, f"Group '{group_id}' does not exist.", 404)
        return group

    def _link(self) -> str:
        return f"https://chat.whatsapp.com/{secrets.token_urlsafe(12)}"

    # ---------------------------------------------------------------- graph
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        subject = str(body.get("subject") or "").strip()
        if not subject or len(subject) > 128:
            raise GroupsError(100, "subject is required (at most 128 characters).")
        mode = body.get("join_approval_mode", "auto_approve")
        if mode not in ("auto_approve", "approval_required"):
            raise GroupsError(100, "join_approval_mode must be auto_approve or approval_required.")
        request_id = f"{next(self._ids):015d}"
        group = FakeGroup(
            id=f"Y2FwaV9ncm91cD{secrets.token_hex(10)}",
            subject=subject,
            description=str(body.get("description") or "")[:2048],
            approval_required=mode == "approval_required",
            invite_link=self._link(),
        )
        with self._lock:
            self.groups[group.id] = group
        item = {
            "timestamp": self._now(),
            "group_id": group.id,
            "type": "group_create",
            "request_id": request_id,
            "subject": group.subject,
            "invite_link": group.invite_link,
            "join_approval_mode": mode,
        }
        self._queue("group_lifecycle_update", {"groups": [item]})
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def invite_link(self, group_id: str, *, reset: bool) -> dict[str, Any]:
        group = self._group(group_id)
        if reset:
            group.invite_link = self._link()
        return {"messaging_product": "whatsapp", "invite_link": group.invite_link}

    def settings(self, group_id: str) -> dict[str, Any]:
        self._group(group_id)
        return {"success": True}

    def approve(self, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        group = self._group(group_id)
        approved, failed = [], []
        for request_id in body.get("join_requests") or []:
            wa_id = group.join_requests.pop(str(request_id), None)
            if wa_id is None or len(group.participants) >= MAX_PARTICIPANTS:
                failed.append({"join_request_id": request_id, "errors": [{"code": 131000, "message": "not approved"}]})
                continue
            approved.append(request_id)
            self._add(group, wa_id)
        return {"messaging_product": "whatsapp", "approved_join_requests": approved, "failed_join_requests": failed}

    def delete(self, group_id: str) -> dict[str, Any]:
        group = self._group(group_id)
        group.deleted = True
        self._queue(
            "group_lifecycle_update",
            {"groups": [{"timestamp": self._now(), "group_id": group.id, "type": "group_delete"}]},
        )
        return {"success": True}

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        group = self._group(str(body.get("to") or ""))
        kind = body.get("type")
        if kind == "interactive":
            raise GroupsError(131009, "Interactive messages are not supported in groups.")
        if kind not in ("text", "image", "video", "document", "audio", "template"):
            raise GroupsError(100, f"Unsupported message type {kind!r} for a group.")
        wamid = self._wamid(group.id)
        found = body.get(kind)
        payload: dict[str, Any] = found if isinstance(found, dict) else {}
        text = payload.get("body") or payload.get("caption") or ""
        with self._lock:
            self.sent.append({"group_id": group.id, "wamid": wamid, "type": kind, "text": text, "body": body})
        return {"messaging_product": "whatsapp", "messages": [{"id": wamid}]}

    # ---------------------------------------------------------------- what people do
    def _add(self, group: FakeGroup, wa_id: str) -> None:
        group.participants.append(wa_id)
        item = {
            "timestamp": self._now(),
            "group_id": group.id,
            "type": "group_participants_add",
            "reason": "invite_link",
            "added_participants": [{"input": wa_id, "wa_id": wa_id}],
        }
        self._queue("group_participants_update", {"groups": [item]})

    def join(self, group_id: str, wa_id: str) -> dict[str, Any]:
        group = self._group(group_id)
        if wa_id in group.participants:
            return {"status": "already_joined"}
        if len(group.participants) >= MAX_PARTICIPANTS:
            raise GroupsError(131000, f"The group is full ({MAX_PARTICIPANTS} participants).", 409)
        if not group.approval_required:
            self._add(group, wa_id)
            return {"status": "joined"}
        request_id = f"jr{next(self._ids):012d}"
        group.join_requests[request_id] = wa_id
        item = {
            "timestamp": self._now(),
            "group_id": group.id,
            "type": "group_join_request_created",
            "join_request_id": request_id,
            "wa_id": wa_id,
        }
        self._queue("group_participants_update", {"groups": [item]})
        return {"status": "requested", "join_request_id": request_id}

    def leave(self, group_id: str, wa_id: str) -> dict[str, Any]:
        group = self._group(group_id)
        if wa_id not in group.participants:
            raise GroupsError(100, f"{wa_id} is not in the group.", 404)
        group.participants.remove(wa_id)
        item = {
            "timestamp": self._now(),
            "group_id": group.id,
            "type": "group_participants_remove",
            "initiated_by": wa_id,
            "removed_participants": [{"input": wa_id, "wa_id": wa_id}],
        }
        self._queue("group_participants_update", {"groups": [item]})
        return {"status": "left"}

    def message(self, group_id: str, wa_id: str, text: str) -> dict[str, Any]:
        group = self._group(group_id)
        if wa_id not in group.participants:
            raise GroupsError(100, f"{wa_id} is not in the group.", 404)
        message = {
            "from": wa_id,
            "group_id": group.id,
            "id": self._wamid(wa_id),
            "timestamp": self._now(),
            "type": "text",
            "text": {"body": text[:4096]},
        }
        self._queue("messages", {"contacts": [{"profile": {"name": ""}, "wa_id": wa_id}], "messages": [message]})
        return {"status": "sent", "id": message["id"]}

    def state(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "id": g.id,
                    "subject": g.subject,
                    "invite_link": g.invite_link,
                    "participants": list(g.participants),
                    "join_requests": dict(g.join_requests),
                    "deleted": g.deleted,
                }
                for g in self.groups.values()
            ]

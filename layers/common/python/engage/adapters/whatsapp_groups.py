"""The Cloud API's Groups endpoints over httpx (implements `engage.groups.ports.GroupsApi`).

    POST   /{phone_number_id}/groups        {messaging_product, subject, description, join_approval_mode}
                                            -> {request_id}; the group arrives by `group_lifecycle_update`
    POST   /{group_id}                      multipart: subject, description, profile_picture_file
    GET    /{group_id}/invite_link          -> {invite_link}
    POST   /{group_id}/invite_link          resets it (the old link stops working) -> {invite_link}
    POST   /{group_id}/join_requests        {messaging_product, join_requests: [ids]} approves
    DELETE /{group_id}                      deletes the group (participants are removed)
    POST   /{phone_number_id}/messages      recipient_type "group", to: the group id (text, media, templates)

Sources in docs/groups.md. A refusal raises `GroupsApiError` with Meta's code and message.
"""

from __future__ import annotations

from typing import Any

import httpx

from engage.adapters.whatsapp import DEFAULT_TIMEOUT
from engage.core.settings import WhatsAppSettings

MAX_PHOTO_BYTES = 5 * 1024 * 1024


class GroupsApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(f"Groups API refused ({status}, #{code}): {message}")
        self.status, self.code = status, code


class WhatsAppGroupsClient:
    def __init__(self, settings: WhatsAppSettings, http: httpx.Client | None = None):
        self.root = settings.api_base.rstrip("/")
        self.phone_number_id = settings.phone_number_id
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self.auth = {"Authorization": f"Bearer {settings.access_token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, f"{self.root}/{path}", headers=self.auth, **kwargs)
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code >= 300 or (isinstance(payload, dict) and "error" in payload):
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            code = error.get("code") if isinstance(error, dict) else None
            message = str(error.get("message", "")) if isinstance(error, dict) else ""
            raise GroupsApiError(response.status_code, code if isinstance(code, int) else 0, message)
        return payload if isinstance(payload, dict) else {}

    def create_group(self, subject: str, description: str, *, approval_required: bool) -> str:
        body = {
            "messaging_product": "whatsapp",
            "subject": subject,
            "description": description,
            "join_approval_mode": "approval_required" if approval_required else "auto_approve",
        }
        return str(self._call("POST", f"{self.phone_number_id}/groups", json=body)["request_id"])

    def set_photo(self, group_id: str, photo_url: str) -> None:
        image = self.http.get(photo_url, follow_redirects=True)
        image.raise_for_status()
        if len(image.content) > MAX_PHOTO_BYTES:
            raise GroupsApiError(400, 0, "the group photo is larger than 5 MB")
        files = {
            "messaging_product": (None, "whatsapp"),
            "profile_picture_file": ("profile.jpg", image.content, "image/jpeg"),
        }
        self._call("POST", group_id, files=files)

    def invite_link(self, group_id: str, *, reset: bool = False) -> str:
        if reset:
            payload = self._call("POST", f"{group_id}/invite_link", json={"messaging_product": "whatsapp"})
        else:
            payload = self._call("GET", f"{group_id}/invite_link")
        return str(payload["invite_link"])

    def approve_join_requests(self, group_id: str, request_ids: list[str]) -> None:
        body = {"messaging_product": "whatsapp", "join_requests": request_ids}
        self._call("POST", f"{group_id}/join_requests", json=body)

    def delete_group(self, group_id: str) -> None:
        self._call("DELETE", group_id)

    def send_text(self, group_id: str, text: str, *, media_url: str | None = None) -> str:
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "group", "to": group_id}
        if media_url:
            body.update(type="image", image={"link": media_url, "caption": text})
        else:
            body.update(type="text", text={"preview_url": True, "body": text})
        payload = self._call("POST", f"{self.phone_number_id}/messages", json=body)
        return str(payload["messages"][0]["id"])

"""Groups API calls as queue jobs (`GroupCall`), made by the sender (engage.groups.worker).

Only the sender holds the WhatsApp access token (docs/operations.md), so the API, the webhook and
the schedules queue a `GroupCall` on the send queue instead of calling the Groups API themselves.
That also puts group posts on the sender's token bucket: a group message counts against the
number's throughput like any other message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from engage.core.ports import Queue

Op = Literal["create", "photo", "reset_link", "approve", "delete", "post"]


class GroupCall(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["group_call"] = "group_call"
    op: Op
    group_id: str
    post_id: str | None = None
    request_ids: list[str] = []


def queue_call(queue: Queue, call: GroupCall) -> None:
    queue.send([call.model_dump(mode="json")])

"""Group notifications: the four Groups API webhook fields, and messages members write in a group.

Both are handed to the groups capability (engage.groups.service) through the `group_updates` port:
each notice is applied once there (a retried webhook finds its notice already claimed), and a
message with a `group_id` counts as the member's activity for that day instead of being taken as a
1:1 message (it opens no customer-service window and is no reply to a campaign). The field's change
is kept for inspection like the template notifications.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Protocol

from engage.groups.webhooks import GroupNotice, parse_group_value
from engage.inbound.payloads import Change
from engage.inbound.run import Run, event_time
from engage.inbound.sender_payloads import Message


class GroupUpdates(Protocol):
    def notice(self, notice: GroupNotice, now: datetime) -> str: ...

    def member_wrote(self, wa_group_id: str, wa_id: str, at: str, now: datetime) -> bool: ...


def process_group_update(run: Run, change: Change) -> None:
    run.keep(f"field#{change.field}", change.raw)
    handler = run.ports.group_updates
    if handler is None:
        return
    for notice in parse_group_value(change.field, change.raw.get("value")):
        run.isolate("groups", notice.raw, partial(handler.notice, notice, run.now))
        run.count("group_notices")


def process_group_messages(run: Run, messages: list[Message]) -> None:
    handler = run.ports.group_updates
    for message in messages:
        run.count("group_messages")
        if handler is None:
            run.keep("group_message", message.raw)
            continue
        group_id = str(message.raw.get("group_id"))[:512]
        at = event_time(message.timestamp, run.now)
        run.isolate("group_messages", message.raw, partial(handler.member_wrote, group_id, message.from_, at, run.now))

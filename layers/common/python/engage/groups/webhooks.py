"""The Groups API webhook fields, parsed into one flat notice per participant and change.

Shapes as Meta documents them ("Webhooks for Groups API"; docs/groups.md lists the sources): each
field's `value` carries `metadata` and a `groups[]` list; every item has `group_id`, `type` and
`timestamp`, plus, by type:

- `group_lifecycle_update`: `group_create` (`subject`, `invite_link`, `join_approval_mode`,
  `request_id`, or `errors`), `group_delete`;
- `group_participants_update`: `group_participants_add` (`added_participants[{wa_id}]`, `reason`),
  `group_participants_remove` (`removed_participants[{wa_id}]`, `initiated_by`: the participant
  when they left, the business when it removed them), `group_join_request_created` /
  `group_join_request_revoked` (`join_request_id`, `wa_id`);
- `group_settings_update`: subject, description or photo changes (`errors` when they failed);
- `group_status_update`: `group_suspend`, `group_suspend_cleared`.

Unknown fields are ignored and unknown types become `other` notices, so a new shape never fails
the webhook.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NoticeKind = Literal[
    "created",
    "create_failed",
    "deleted",
    "joined",
    "left",
    "removed",
    "join_requested",
    "join_request_revoked",
    "settings",
    "suspended",
    "unsuspended",
    "other",
]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class Participant(_Lenient):
    wa_id: str = ""
    user_id: str = ""


class GroupItem(_Lenient):
    group_id: str = Field(default="", max_length=512)
    type: str = ""
    timestamp: str = ""
    request_id: str | None = None
    subject: str | None = None
    invite_link: str | None = None
    reason: str | None = None
    initiated_by: str | None = None
    wa_id: str = ""
    join_request_id: str | None = None
    added_participants: list[Participant] = []
    removed_participants: list[Participant] = []
    errors: list[dict[str, Any]] = []


class GroupNotice(BaseModel):
    """One thing that happened to one group (and, for participant changes, one person)."""

    field: str
    kind: NoticeKind
    group_id: str
    timestamp: str
    wa_id: str = ""
    join_request_id: str | None = None
    invite_link: str | None = None
    subject: str | None = None
    request_id: str | None = None
    raw: dict[str, Any] = {}

    @property
    def event_id(self) -> str:
        """The business identity of the notice: a retried webhook has the same one."""
        return "|".join((self.kind, self.wa_id or "-", self.join_request_id or "-", self.timestamp or "-"))


def _kind(item: GroupItem) -> NoticeKind:
    if item.type == "group_create":
        return "create_failed" if item.errors else "created"
    return {
        "group_delete": "deleted",
        "group_participants_add": "joined",
        "group_join_request_created": "join_requested",
        "group_join_request_revoked": "join_request_revoked",
        "group_suspend": "suspended",
        "group_suspend_cleared": "unsuspended",
    }.get(item.type, "other")  # type: ignore[return-value]


def parse_group_value(field: str, value: Any) -> list[GroupNotice]:
    """Every notice in one change's `value`; items that do not fit are skipped (the change is kept)."""
    items = value.get("groups") if isinstance(value, dict) else None
    notices: list[GroupNotice] = []
    for raw in items if isinstance(items, list) else []:
        try:
            item = GroupItem.model_validate(raw)
        except ValidationError:
            continue
        if not item.group_id:
            continue
        base = {"field": field, "group_id": item.group_id, "timestamp": item.timestamp, "raw": raw}
        if field == "group_settings_update":
            notices.append(GroupNotice(kind="settings", subject=item.subject, **base))
        elif item.type == "group_participants_remove":
            for person in item.removed_participants:
                left = bool(item.initiated_by) and item.initiated_by == person.wa_id
                notices.append(GroupNotice(kind="left" if left else "removed", wa_id=person.wa_id, **base))
        elif item.type == "group_participants_add":
            for person in item.added_participants:
                notices.append(GroupNotice(kind="joined", wa_id=person.wa_id, **base))
        else:
            notices.append(
                GroupNotice(
                    kind=_kind(item),
                    wa_id=item.wa_id,
                    join_request_id=item.join_request_id,
                    invite_link=item.invite_link,
                    subject=item.subject,
                    request_id=item.request_id,
                    **base,
                )
            )
    return notices

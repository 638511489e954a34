"""WhatsApp Cloud API webhook notifications: the envelope, and the statuses of our sends.

Shapes as the Cloud API webhook sends them (docs/webhook.md). Every model ignores unknown fields,
and a status keeps the dict it came from in `raw`, so a new field never crashes parsing. Lists are
parsed item by item: an item that does not fit its model is set aside in `rejected` (with the raw
dict and the reason) instead of failing the notification.

The envelope (`Notification`, `Entry`, `Change`, `Value`) is read by hand: it is that item-by-item
reading and little else, and as plain dataclasses it does not make a status notification, most of
the webhook's traffic, build the models of what a customer sends (engage.inbound.sender_payloads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from engage.inbound.sender_payloads import Contact, Message, UserPreference

MAX_ID = 512  # a wamid is about 60 characters; a longer one cannot be a key


class WaModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


class KeepsRaw(WaModel):
    """Keeps the dict it was parsed from in `raw` (never dumped), so nothing sent is lost."""

    raw: dict[str, Any] = Field(default={}, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**data, "raw": data}
        return data


# ---------------------------------------------------------------- shared pieces
class ErrorData(WaModel):
    details: str | None = None


class WaError(WaModel):
    """An error as WhatsApp reports it in statuses, messages and values."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None

    @property
    def details(self) -> str | None:
        return self.error_data.details if self.error_data else None


class Metadata(WaModel):
    display_phone_number: str = ""
    phone_number_id: str = ""


# ---------------------------------------------------------------- statuses
class Origin(WaModel):
    type: str | None = None


class Conversation(WaModel):
    id: str | None = None
    expiration_timestamp: str | None = None
    origin: Origin | None = None


class Pricing(WaModel):
    billable: bool | None = None
    pricing_model: str | None = None
    type: str | None = None
    category: str | None = None


class Status(KeepsRaw):
    """A status of a message we sent: sent, delivered, read, played, failed (others kept as is)."""

    id: str = Field(min_length=1, max_length=MAX_ID)
    status: str = Field(max_length=64)
    timestamp: str = ""
    recipient_id: str = ""
    recipient_user_id: str = ""
    biz_opaque_callback_data: str | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None
    errors: list[WaError] = []


# ---------------------------------------------------------------- envelope
@dataclass
class Rejected:
    """Part of a notification that did not fit its model: kept whole for inspection."""

    where: str
    raw: Any = None
    reason: str = ""


def parse_items(where: str, items: Any, parse: Callable[[Any], Any]) -> tuple[list[Any], list[Rejected]]:
    """Parses each item on its own (`parse` is a model's `model_validate` or an envelope's `parse`);
    failures become `Rejected` instead of failing the list."""
    if items is None:
        return [], []
    if not isinstance(items, list):
        return [], [Rejected(where=where, raw=items, reason="expected a list")]
    parsed: list[Any] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse(item))
        except ValueError as error:  # pydantic's ValidationError is one
            rejected.append(Rejected(where=f"{where}[{index}]", raw=item, reason=_reason(error)))
    return parsed, rejected


def _reason(error: ValueError) -> str:
    if not isinstance(error, ValidationError):
        return str(error)[:500]
    details = error.errors()
    if not details:
        return "invalid"
    location = ".".join(str(p) for p in details[0]["loc"])
    return f"{location or 'item'}: {details[0]['msg']}"[:500]


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("expected an object")
    return data


def _text(data: dict[str, Any], name: str, default: str | None = "") -> Any:
    """A string field as the models read one (`coerce_numbers_to_str`): a number becomes its text."""
    if name not in data:
        return default
    value = data[name]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if value is None and default is None:
        return None
    raise ValueError(f"{name}: expected a string")


SENDER_PARTS = ("contacts", "messages", "user_preferences")


def _sender_models() -> dict[str, Any]:
    # Imported for a part a customer sent: a status notification never builds these models.
    from engage.inbound.sender_payloads import Contact, Message, UserPreference

    return {"contacts": Contact, "messages": Message, "user_preferences": UserPreference}


@dataclass
class Value:
    messaging_product: str | None = None
    metadata: Metadata = field(default_factory=Metadata)
    contacts: list[Contact] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    user_preferences: list[UserPreference] = field(default_factory=list)
    errors: list[WaError] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @classmethod
    def parse(cls, data: Any) -> Value:
        data = _object(data)
        rejected: list[Rejected] = []
        metadata = data.get("metadata", {})
        if not isinstance(metadata, dict):
            rejected.append(Rejected(where="metadata", raw=metadata, reason="expected an object"))
            metadata = {}
        sent = any(data.get(name) is not None for name in SENDER_PARTS)
        models: dict[str, Any] = {**(_sender_models() if sent else {}), "statuses": Status, "errors": WaError}
        lists: dict[str, list[Any]] = {name: [] for name in SENDER_PARTS}
        for name, model in models.items():
            lists[name], bad = parse_items(name, data.get(name), model.model_validate)
            rejected.extend(bad)
        return cls(
            messaging_product=_text(data, "messaging_product", None),
            metadata=Metadata.model_validate(metadata),
            rejected=rejected,
            **lists,
        )

    def contact_for(self, wa_id: str, user_id: str) -> Contact | None:
        """The `contacts[]` entry of a sender: the one with the same user id, else the same wa_id.

        There is no "sole contact" fallback: a contact that does not name the sender may be another
        person (a `user_preferences` entry for one number beside another number's contact block)."""
        for contact in self.contacts:
            if user_id and contact.user_id == user_id:
                return contact
        for contact in self.contacts:
            if wa_id and contact.wa_id == wa_id:
                return contact
        return None


@dataclass
class Change:
    raw: dict[str, Any]
    value: Value = field(default_factory=Value)
    field: str = ""  # last: in the class body the name hides dataclasses.field

    @classmethod
    def parse(cls, data: Any) -> Change:
        data = _object(data)
        value = Value.parse(data["value"]) if "value" in data else Value()
        return cls(raw=data, field=_text(data, "field"), value=value)


@dataclass
class Entry:
    id: str = ""
    changes: list[Change] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @classmethod
    def parse(cls, data: Any) -> Entry:
        data = _object(data)
        changes, rejected = parse_items("changes", data.get("changes"), Change.parse)
        return cls(id=_text(data, "id"), changes=changes, rejected=rejected)


@dataclass
class Notification:
    """The POST body: `{object, entry[{id, changes[{field, value}]}]}`."""

    raw: dict[str, Any] = field(default_factory=dict)
    object: str = ""
    entry: list[Entry] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def is_whatsapp(self) -> bool:
        return self.object == "whatsapp_business_account"

    def changes(self) -> list[Change]:
        return [change for entry in self.entry for change in entry.changes]

    def all_rejected(self) -> list[Rejected]:
        found = list(self.rejected)
        for entry in self.entry:
            found.extend(entry.rejected)
            for change in entry.changes:
                found.extend(change.value.rejected)
        return found


def parse_notification(body: Any) -> Notification:
    """Never raises: whatever does not fit ends up in `all_rejected()`."""
    try:
        data = _object(body)
        entries, rejected = parse_items("entry", data.get("entry"), Entry.parse)
        return Notification(raw=data, object=_text(data, "object"), entry=entries, rejected=rejected)
    except ValueError as error:
        return Notification(rejected=[Rejected(where="notification", raw=body, reason=_reason(error))])

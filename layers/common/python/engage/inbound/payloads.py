"""Inbound models of WhatsApp Cloud API webhook notifications (field `messages` and `user_preferences`).

Shapes as the Cloud API webhook sends them (docs/webhook.md). Every model ignores unknown fields, and every
message keeps the dict it came from in `raw`, so a new field or a new message type never
crashes parsing. Lists are parsed item by item: an item that does not fit its model is set
aside in `rejected` (with the raw dict and the reason) instead of failing the notification.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_ID = 512  # a wamid is about 60 characters; a longer one cannot be a key


class WaModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


class KeepsRaw(WaModel):
    """Keeps the dict it was parsed from in `raw` (never dumped), so nothing sent is lost."""

    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)

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


class Profile(WaModel):
    name: str | None = None
    username: str | None = None
    country_code: str | None = None


class Contact(WaModel):
    """`value.contacts[]`: who a message came from. `wa_id` may be "" for username users."""

    profile: Profile = Field(default_factory=Profile)
    wa_id: str = ""
    user_id: str = ""


# ---------------------------------------------------------------- message payloads
class Text(WaModel):
    body: str = ""


class ReplyOption(WaModel):
    id: str = ""
    title: str = ""
    description: str | None = None


class FlowReply(WaModel):
    name: str | None = None
    body: str | None = None
    response_json: str | None = None


class Interactive(WaModel):
    type: str = ""  # button_reply | list_reply | nfm_reply | ...
    button_reply: ReplyOption | None = None
    list_reply: ReplyOption | None = None
    nfm_reply: FlowReply | None = None


class Button(WaModel):
    """A tap on a template quick-reply button."""

    payload: str = ""
    text: str = ""


class Media(WaModel):
    """image, video, audio, document, sticker."""

    id: str = ""
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None
    url: str | None = None


class Location(WaModel):
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    address: str | None = None
    url: str | None = None


class SharedName(WaModel):
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class SharedPhone(WaModel):
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class SharedContact(WaModel):
    name: SharedName = Field(default_factory=SharedName)
    phones: list[SharedPhone] = Field(default_factory=list)


class Reaction(WaModel):
    message_id: str = ""
    emoji: str = ""  # "" (or absent) when the reaction is removed


class ProductItem(WaModel):
    product_retailer_id: str = ""
    quantity: int = 1
    item_price: float | None = None
    currency: str | None = None


class Order(WaModel):
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[ProductItem] = Field(default_factory=list)


class System(WaModel):
    """`user_changed_number` / `user_changed_user_id`: the user's NEW identities."""

    body: str | None = None
    type: str = ""
    wa_id: str | None = None
    user_id: str | None = None
    previous_user_id: str | None = None  # user_changed_user_id, Aug 2026: the old BSUID
    new_wa_id: str | None = None  # older payloads
    identity: str | None = None
    customer: str | None = None


class Unsupported(WaModel):
    type: str | None = None


class ReferredProduct(WaModel):
    catalog_id: str | None = None
    product_retailer_id: str | None = None


class Context(WaModel):
    """The message replied to (`id`, `from`), forwarding flags, or a product inquiry."""

    id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None
    referred_product: ReferredProduct | None = None


class Referral(WaModel):
    """Click-to-WhatsApp ad or post that started the conversation (on the first message)."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None  # "ad" | "post"
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


class Message(KeepsRaw):
    """One inbound message. Unknown types parse too (`type` kept, payload in `raw`)."""

    id: str = Field(min_length=1, max_length=MAX_ID)
    from_: str = Field(default="", alias="from")
    from_user_id: str = ""
    timestamp: str = ""
    type: str = "unknown"
    context: Context | None = None
    referral: Referral | None = None
    errors: list[WaError] = Field(default_factory=list)

    text: Text | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] | None = None
    reaction: Reaction | None = None
    order: Order | None = None
    system: System | None = None
    unsupported: Unsupported | None = None

    @property
    def media(self) -> Media | None:
        return getattr(self, self.type, None) if self.type in MEDIA_TYPES else None


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
    errors: list[WaError] = Field(default_factory=list)


# ---------------------------------------------------------------- user preferences
class UserPreference(KeepsRaw):
    """`field: user_preferences`: the user stopped or resumed marketing messages in WhatsApp."""

    wa_id: str = ""
    user_id: str = ""
    detail: str | None = None
    category: str = ""
    value: str = ""  # "stop" | "resume"
    timestamp: str = ""


# ---------------------------------------------------------------- envelope
class Rejected(WaModel):
    """Part of a notification that did not fit its model: kept whole for inspection."""

    where: str
    raw: Any = None
    reason: str = ""


def parse_items(where: str, items: Any, model: type[BaseModel]) -> tuple[list[Any], list[Rejected]]:
    """Validates each item on its own; failures become `Rejected` instead of failing the list."""
    if items is None:
        return [], []
    if not isinstance(items, list):
        return [], [Rejected(where=where, raw=items, reason="expected a list")]
    parsed: list[Any] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as error:
            rejected.append(Rejected(where=f"{where}[{index}]", raw=item, reason=_reason(error)))
    return parsed, rejected


def _reason(error: ValidationError) -> str:
    details = error.errors()
    if not details:
        return "invalid"
    location = ".".join(str(p) for p in details[0]["loc"])
    return f"{location or 'item'}: {details[0]['msg']}"[:500]


class Value(WaModel):
    messaging_product: str | None = None
    metadata: Metadata = Field(default_factory=Metadata)
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    user_preferences: list[UserPreference] = Field(default_factory=list)
    errors: list[WaError] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lenient_lists(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        rejected: list[Rejected] = list(data.get("rejected") or [])
        lists: dict[str, type[BaseModel]] = {
            "contacts": Contact,
            "messages": Message,
            "statuses": Status,
            "user_preferences": UserPreference,
            "errors": WaError,
        }
        for name, model in lists.items():
            data[name], bad = parse_items(name, data.get(name), model)
            rejected.extend(bad)
        if not isinstance(data.get("metadata", {}), dict):
            rejected.append(Rejected(where="metadata", raw=data.pop("metadata"), reason="expected an object"))
        data["rejected"] = rejected
        return data

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


class Change(KeepsRaw):
    field: str = ""
    value: Value = Field(default_factory=Value)


class Entry(WaModel):
    id: str = ""
    changes: list[Change] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lenient_changes(cls, data: Any) -> Any:
        if isinstance(data, dict):
            changes, rejected = parse_items("changes", data.get("changes"), Change)
            return {**data, "changes": changes, "rejected": [*(data.get("rejected") or []), *rejected]}
        return data


class Notification(KeepsRaw):
    """The POST body: `{object, entry[{id, changes[{field, value}]}]}`."""

    object: str = ""
    entry: list[Entry] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        if isinstance(data, dict):
            entries, rejected = parse_items("entry", data.get("entry"), Entry)
            rejected = [*(data.get("rejected") or []), *rejected]
            return {**data, "entry": entries, "rejected": rejected, "raw": data}
        return data

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


StatusName = Literal["sent", "delivered", "read", "played", "failed"]


def parse_notification(body: Any) -> Notification:
    """Never raises: whatever does not fit ends up in `all_rejected()`."""
    try:
        return Notification.model_validate(body)
    except ValidationError as error:
        return Notification(rejected=[Rejected(where="notification", raw=body, reason=_reason(error))])

"""What a customer's own action brings in a notification: messages (`value.messages[]`), the
contacts block that names their sender (`value.contacts[]`) and user preferences
(`value.user_preferences[]`, marketing stopped or resumed).

Apart from the envelope and statuses (engage.inbound.payloads) so that a status notification,
most of the webhook's traffic, never builds them: `Value.parse` imports this module for the first
such part. Every model ignores unknown fields and a message keeps the dict it came from in `raw`,
so a new field or a new message type never crashes parsing.
"""

from __future__ import annotations

from pydantic import Field

from engage.inbound.payloads import MAX_ID, KeepsRaw, WaError, WaModel


# ---------------------------------------------------------------- who wrote
class Profile(WaModel):
    name: str | None = None
    username: str | None = None
    country_code: str | None = None


class Contact(WaModel):
    """`value.contacts[]`: who a message came from. `wa_id` may be "" for username users."""

    profile: Profile = Field(default_factory=Profile)
    wa_id: str = ""
    user_id: str = ""


# ---------------------------------------------------------------- user preferences
class UserPreference(KeepsRaw):
    """`field: user_preferences`: the user stopped or resumed marketing messages in WhatsApp."""

    wa_id: str = ""
    user_id: str = ""
    detail: str | None = None
    category: str = ""
    value: str = ""  # "stop" | "resume"
    timestamp: str = ""


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
    phones: list[SharedPhone] = []


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
    product_items: list[ProductItem] = []


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
    errors: list[WaError] = []

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

    @property
    def in_group(self) -> bool:
        """Written by a member in a WhatsApp group (engage.inbound.groups), not to us one to one."""
        return bool(self.raw.get("group_id"))

"""Inbound messages: parsed, resolved to their customer, stored once as history, with the profile
update, referral records and consent keywords they carry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from engage.core.time import iso, parse_iso
from engage.customers import consent
from engage.customers.profiles import Customer
from engage.inbound.bounds import bound_data
from engage.inbound.config import InboundConfig
from engage.inbound.history import HistoryEvent, ProfileTouch
from engage.inbound.identity import Sender, apply_identity_change, customer_for, prefetch, sender_of
from engage.inbound.payloads import Value
from engage.inbound.preferences import consent_touch, queue_confirmation
from engage.inbound.run import Run, event_time, touch_profile
from engage.inbound.sender_payloads import Message

NOT_INBOUND = {"system"}  # message types that are not the customer writing to us


@dataclass
class Inbound:
    """One parsed message on its way to storage."""

    message: Message
    customer: Customer
    event: HistoryEvent
    action: tuple[consent.Action, str] | None = None
    referral_code: str | None = None

    @property
    def counts_as_inbound(self) -> bool:
        return self.message.type not in NOT_INBOUND


def process_messages(run: Run, value: Value) -> None:
    if value.messages:
        prefetch(run, value)
    parsed: list[Inbound] = []
    for message in value.messages:
        inbound = run.isolate("messages", message.raw, partial(parse_inbound, run, value, message))
        if inbound is not None:
            parsed.append(inbound)
    by_customer: dict[str, list[Inbound]] = {}
    for inbound in parsed:
        by_customer.setdefault(inbound.customer.id, []).append(inbound)
    run.fan_out([partial(store_isolated, run, group) for group in by_customer.values()])


def store_isolated(run: Run, group: list[Inbound]) -> None:
    """One customer's messages together; when that fails on content, each message on its own, so
    only the message that cannot be stored is rejected (every step is idempotent, so a retry is safe)."""
    if len(group) == 1:
        run.isolate("messages", group[0].message.raw, partial(store_group, run, group))
        return
    try:
        store_group(run, group)
    except Exception as error:
        if run.ports.transient(error):
            raise
        for inbound in group:
            run.isolate("messages", inbound.message.raw, partial(store_group, run, [inbound]))


def parse_inbound(run: Run, value: Value, message: Message) -> Inbound:
    sender = sender_of(value, message.from_, message.from_user_id)
    occurred = event_time(message.timestamp, run.now)
    if message.type == "system":
        customer = apply_identity_change(run, message)
    else:
        customer = customer_for(run, sender, parse_iso(occurred))
    event = HistoryEvent(
        customer_id=customer.id,
        kind="message",
        event_id=message.id,
        occurred_at=occurred,
        received_at=iso(run.now),
        data=message_data(message, sender),
    )
    if event.data.get("truncated"):
        run.count("truncated")
    inbound = Inbound(message=message, customer=customer, event=event, action=consent_action(message, run.config))
    if inbound.action:
        event.data["consent_action"] = inbound.action[0]
    if message.text and inbound.counts_as_inbound:
        match = run.config.referral_code.search(message.text.body)
        inbound.referral_code = match.group(1) if match else None
    return inbound


def store_group(run: Run, group: list[Inbound]) -> None:
    """One customer's messages of this notification: side items, one profile update, history puts."""
    customer = group[0].customer
    first_contact = customer.last_inbound_at is None
    for inbound in group:
        record_referrals(run, inbound, first_contact)
    touch_profile(run, customer, lambda current: message_touch(current, group))
    confirm_for: Inbound | None = None
    for inbound in sorted(group, key=lambda i: i.event.occurred_at):
        if run.ports.store.put_event(inbound.event):
            run.count("messages")
        else:
            run.count("duplicates")
        if inbound.action:
            # Queued on a redelivery too: a crash between the history put and the queue would
            # otherwise lose it, and its send key makes the sender send it once.
            confirm_for = inbound
    if confirm_for is not None and confirm_for.action:
        action, language = confirm_for.action
        queue_confirmation(run, customer.id, confirm_for.event.event_id, action, language)


def record_referrals(run: Run, inbound: Inbound, first_contact: bool) -> None:
    referral = inbound.message.referral
    if referral is not None:
        tag = run.config.referral_tags.get(referral.source_type or "", run.config.referral_default_tag)
        reason = f"click-to-whatsapp {referral.source_type or 'referral'} {referral.source_id or ''}".strip()
        run.ports.store.put_tag(
            inbound.customer.id,
            tag,
            since=inbound.event.occurred_at,
            source="webhook",
            reason=reason,
            event_id=inbound.message.id,
        )
    if inbound.referral_code and first_contact:
        run.ports.store.put_referral_invite(
            inbound.referral_code, inbound.customer.id, at=inbound.event.occurred_at, wamid=inbound.message.id
        )
        inbound.event.data["referral_code"] = inbound.referral_code


def message_touch(customer: Customer, group: list[Inbound]) -> ProfileTouch:
    touch = ProfileTouch()
    times = [i.event.occurred_at for i in group if i.counts_as_inbound]
    if times:
        latest = max(times)
        for name in ("last_inbound_at", "last_interaction_at"):
            if later(latest, getattr(customer, name)):
                touch.set[name] = latest
                touch.not_after[name] = latest
        if not customer.first_seen_at:
            touch.set_if_absent["first_seen_at"] = min(times)
        if customer.undeliverable:
            touch.set["undeliverable"] = False
    latest_inbound = max(group, key=lambda i: i.event.occurred_at)
    data = latest_inbound.event.data
    if data.get("name") and data["name"] != customer.name:
        touch.set["name"] = data["name"]
    if data.get("country_code") and not customer.country:
        touch.set["country"] = data["country_code"]
    codes = [i.event.data["referral_code"] for i in group if i.event.data.get("referral_code")]
    if codes:
        touch.set_if_absent["referred_by_code"] = codes[0]
    actions = [i for i in group if i.action]
    if actions:
        last = max(actions, key=lambda i: i.event.occurred_at)
        assert last.action is not None
        consent_touch(touch, customer, last.action[0] == "opt_in", last.event.occurred_at, "keyword")
    return touch


def consent_action(message: Message, config: InboundConfig) -> tuple[consent.Action, str] | None:
    """opt_out / opt_in (with the keyword's language) for a message that is a consent keyword."""
    payloads = [message.button.payload if message.button else None]
    texts = [message.text.body if message.text else None, message.button.text if message.button else None]
    if message.interactive:
        for option in (message.interactive.button_reply, message.interactive.list_reply):
            if option:
                payloads.append(option.id)
                texts.append(option.title)
    for payload in filter(None, payloads):
        if payload in config.opt_out_payloads:
            return "opt_out", config.default_language
        if payload in config.opt_in_payloads:
            return "opt_in", config.default_language
    for text in texts:
        if found := consent.match_keyword(text, config.keywords):
            return found
    return None


def message_data(message: Message, sender: Sender) -> dict[str, Any]:
    """The history item's `data`: the type, the text, the payload and what the tagger needs."""
    data: dict[str, Any] = {
        "type": message.type,
        "wa_id": sender.wa_id,
        "user_id": sender.user_id,
        "name": sender.name,
        "username": sender.username,
        "country_code": sender.country,
    }
    data.update(PAYLOADS.get(message.type, _unknown)(message))
    if message.context:
        data["context_id"] = message.context.id
        data["context_from"] = message.context.from_
        data["forwarded"] = message.context.forwarded or message.context.frequently_forwarded or None
        if message.context.referred_product:
            data["referred_product"] = message.context.referred_product.model_dump(exclude_none=True)
    if message.referral:
        data["referral"] = message.referral.model_dump(exclude_none=True)
    if message.errors:
        data["errors"] = [e.model_dump(exclude_none=True) for e in message.errors]
    return bound_data({k: v for k, v in data.items() if v not in (None, "", [], {})})


def _text(message: Message) -> dict[str, Any]:
    return {"text": message.text.body if message.text else None}


def _button(message: Message) -> dict[str, Any]:
    button = message.button
    return {"text": button.text, "payload": button.payload} if button else {}


def _interactive(message: Message) -> dict[str, Any]:
    interactive = message.interactive
    if interactive is None:
        return {}
    option = interactive.button_reply or interactive.list_reply
    data: dict[str, Any] = {"interactive_type": interactive.type}
    if option:
        data.update(text=option.title, payload=option.id, description=option.description)
    if interactive.nfm_reply:
        data.update(text=interactive.nfm_reply.body, flow_name=interactive.nfm_reply.name)
        data["flow_response"] = interactive.nfm_reply.response_json
    return data


def _media(message: Message) -> dict[str, Any]:
    media = message.media
    if media is None:
        return {}
    return {
        "media_id": media.id,
        "mime_type": media.mime_type,
        "text": media.caption,
        "filename": media.filename,
        "voice": media.voice,
        "animated": media.animated,
    }


def _location(message: Message) -> dict[str, Any]:
    return {"location": message.location.model_dump(exclude_none=True)} if message.location else {}


def _contacts(message: Message) -> dict[str, Any]:
    shared = [
        {"name": c.name.formatted_name, "phones": [p.wa_id or p.phone for p in c.phones if p.wa_id or p.phone]}
        for c in message.contacts or []
    ]
    return {"contacts": shared}


def _reaction(message: Message) -> dict[str, Any]:
    reaction = message.reaction
    return {"reacted_to": reaction.message_id, "emoji": reaction.emoji or None} if reaction else {}


def _order(message: Message) -> dict[str, Any]:
    order = message.order
    if order is None:
        return {}
    items = [i.model_dump(exclude_none=True) for i in order.product_items]
    return {"catalog_id": order.catalog_id, "text": order.text, "items": items}


def _system(message: Message) -> dict[str, Any]:
    system = message.system
    if system is None:
        return {}
    return {
        "system_type": system.type,
        "text": system.body,
        "new_wa_id": system.wa_id or system.new_wa_id,
        "new_user_id": system.user_id,
    }


def _unknown(message: Message) -> dict[str, Any]:
    """A type we do not model (or `unsupported`): keep the whole raw message."""
    data: dict[str, Any] = {"raw": message.raw}
    if message.unsupported:
        data["unsupported_type"] = message.unsupported.type
    return data


PAYLOADS = {
    "text": _text,
    "button": _button,
    "interactive": _interactive,
    "image": _media,
    "video": _media,
    "audio": _media,
    "document": _media,
    "sticker": _media,
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
}


def later(candidate: str, stored: str | None) -> bool:
    return stored is None or candidate > stored

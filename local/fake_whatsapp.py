"""A fake WhatsApp Cloud API, served by the local runtime under `/_fake/graph/<version>/`.

`POST /_fake/graph/v25.0/{phone_number_id}/messages` (and `/marketing_messages`, the Marketing
Messages API: templates only) behaves like Graph's send endpoint (as the Cloud API answers): bearer
token check (error 190, HTTP 401), body validation (100 invalid parameter, 131008 required parameter
missing; HTTP 400; a phone number in `to`, a business-scoped user id in `recipient`, `to` winning
when both are given; named or positional template parameters), the success answer with `contacts` and a
`wamid`, and Graph's error shape. Every accepted send is recorded in the outbox and queues the
webhooks WhatsApp would send back to `POST /webhook`, signed with the app secret: statuses
`sent` -> `delivered` -> `read` (read with probability `read_rate`) and, with probability `reply_rate`,
an inbound text reply whose `context.id` is the wamid. Decisions hash the wamid, and wamids are
numbered per recipient, so the same run gives the same outcome every time.

Control (through the runtime): `POST /_local/whatsapp/faults` adds a fault rule, `GET` lists,
`DELETE` clears; `POST /_local/whatsapp/behaviour` sets rates; `GET/DELETE /_local/outbox`.
A fault rule is `{"code": 130429, "count": 3}`, `{"code": 131026, "to": "4915..."}`,
`{"http_status": 503, "count": 1}`, `{"latency_ms": 200}`; add `"async": true` to accept the send and
report the error in a `failed` status webhook instead (how 131026/131049/131050 usually arrive).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from engage.core.time import utcnow
from engage.inbound.signature import sign
from local.fake_groups import FakeGroups, GroupsError
from local.http_api import Response, json_response

WABA_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "15550001234"

# code -> (HTTP status, title), as the Cloud API answers them.
ERRORS: dict[int, tuple[int, str]] = {
    0: (401, "AuthException"),
    1: (400, "API Unknown"),
    2: (503, "API Service"),
    4: (400, "Application request limit reached"),
    10: (403, "Permission denied"),
    100: (400, "Invalid parameter"),
    190: (401, "Invalid OAuth access token - Cannot parse access token"),
    368: (400, "Temporarily blocked for policies violations"),
    80007: (400, "Rate limit issues"),
    130429: (400, "Rate limit hit"),
    130472: (400, "User's number is part of an experiment"),
    130497: (400, "Business account is restricted from messaging users in this country"),
    131000: (500, "Something went wrong"),
    131008: (400, "Required parameter is missing"),
    131009: (400, "Parameter value is not valid"),
    131016: (503, "Service unavailable"),
    131026: (400, "Message undeliverable"),
    131031: (400, "Business Account locked"),
    131042: (400, "Business eligibility payment issue"),
    131047: (400, "Re-engagement message"),
    131048: (400, "Spam rate limit hit"),
    131049: (400, "This message was not delivered to maintain healthy ecosystem engagement."),
    131050: (400, "User has stopped marketing messages"),
    131051: (400, "Unsupported message type"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    131057: (400, "Account in maintenance mode"),
    131062: (400, "Business-scoped user ID not supported for this message"),
    131063: (400, "Marketing messages are not available on the Cloud API for this business"),
    132000: (400, "Number of parameters does not match the expected number of params"),
    132001: (404, "Template name does not exist in the translation"),
    132005: (400, "Translated text too long"),
    132007: (400, "Template format character policy violated"),
    132012: (400, "Parameter format does not match format in the created template"),
    132015: (400, "Template is Paused"),
    132016: (400, "Template is Disabled"),
}
STATUS_CODES = {500: 131000, 502: 131000, 503: 131016, 504: 131016, 429: 130429, 401: 190, 403: 10}

PHONE = re.compile(r"^\+?[1-9]\d{6,14}$")
BSUID = re.compile(r"^[A-Za-z]{2,8}\.[A-Za-z0-9._-]{1,250}$")
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


class GraphError(Exception):
    def __init__(self, code: int, details: str, http_status: int | None = None) -> None:
        super().__init__(details)
        self.code = code
        self.details = details
        self.http_status = http_status or ERRORS.get(code, (400, ""))[0]

    @property
    def title(self) -> str:
        return ERRORS.get(self.code, (400, "Unknown error"))[1]

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": f"(#{self.code}) {self.title}",
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
                "fbtrace_id": "A" + uuid.uuid4().hex[:22],
            }
        }

    def response(self) -> Response:
        return json_response(self.http_status, self.body())


def bsuid_for(wa_id: str) -> str:
    """The business-scoped user id the fake gives a phone number (stable, `CC.<19 digits>`)."""
    from engage.core.phones import region_of

    digits = str(int(hashlib.sha256(wa_id.encode()).hexdigest(), 16))[:19]
    return f"{region_of(wa_id) or 'US'}.{digits}"


def _fraction(*parts: str) -> float:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def notification(value: dict[str, Any], phone_number_id: str) -> dict[str, Any]:
    """A `messages` webhook as WhatsApp posts it: one entry, one change, `value` with its metadata."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id},
        **value,
    }
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [change]}]}


def inbound_text(
    wa_id: str,
    text: str,
    *,
    user_id: str | None = None,
    name: str = "",
    wamid: str | None = None,
    timestamp: int | None = None,
    phone_number_id: str = "1234567890",
    context_id: str | None = None,
) -> dict[str, Any]:
    """An inbound text message notification from `wa_id` (its BSUID derived unless given)."""
    user_id = bsuid_for(wa_id) if user_id is None and wa_id else user_id
    contact: dict[str, Any] = {"profile": {"name": name or f"Customer {wa_id[-4:]}"}, "wa_id": wa_id}
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid or "wamid." + base64.b64encode(f"in:{wa_id}:{uuid.uuid4().hex}".encode()).decode(),
        "timestamp": str(timestamp or int(utcnow().timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    if context_id:
        message["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context_id}
    return notification({"contacts": [contact], "messages": [message]}, phone_number_id)


# ------------------------------------------------------------------------------------- validation


def _need(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or obj.get(key) in (None, "", [], {}):
        raise GraphError(131008, f"The parameter {where}{key} is required.")
    return obj[key]


def _check_text(body: dict[str, Any]) -> None:
    text = _need(body, "text", "")
    value = _need(text, "body", "text.")
    if not isinstance(value, str) or len(value) > 4096:
        raise GraphError(100, "Param text['body'] must be a string of at most 4096 characters.")


def _check_template(body: dict[str, Any]) -> None:
    template = _need(body, "template", "")
    _need(template, "name", "template.")
    language = _need(template, "language", "template.")
    _need(language, "code", "template.language.")
    components = template.get("components") or []
    if not isinstance(components, list):
        raise GraphError(100, "Param template['components'] must be an array.")
    for component in components:
        kind = _need(component, "type", "template.components[].")
        if kind not in ("header", "body", "button", "footer", "carousel", "limited_time_offer"):
            raise GraphError(100, f"Param template['components'][]['type'] {kind!r} is not valid.")
        if kind == "button":
            _need(component, "sub_type", "template.components[].")
            _need(component, "index", "template.components[].")
        if kind == "body":
            _check_body_parameters(component.get("parameters") or [])


def _check_body_parameters(parameters: Any) -> None:
    """Body parameters are all positional or all named (`parameter_name`, for templates registered
    with `parameter_format: NAMED`), never a mix; names are lowercase letters, digits and `_`."""
    if not isinstance(parameters, list):
        raise GraphError(100, "Param template['components'][]['parameters'] must be an array.")
    names = [p.get("parameter_name") for p in parameters if isinstance(p, dict)]
    if any(names) and not all(names):
        raise GraphError(132012, "Body parameters must be all named or all positional.")
    for name in filter(None, names):
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,60}", name):
            raise GraphError(100, f"Param parameter_name {name!r} is not valid.")
    if len(set(names)) != len(names) and all(names):
        raise GraphError(100, "Each parameter_name may appear once.")


def _check_interactive(body: dict[str, Any]) -> None:
    interactive = _need(body, "interactive", "")
    kind = _need(interactive, "type", "interactive.")
    if kind not in ("button", "list", "cta_url", "product", "product_list", "flow", "location_request_message"):
        raise GraphError(100, f"Param interactive['type'] {kind!r} is not valid.")
    action = _need(interactive, "action", "interactive.")
    if kind in ("button", "list", "cta_url"):
        _need(_need(interactive, "body", "interactive."), "text", "interactive.body.")
    if kind == "button":
        buttons = _need(action, "buttons", "interactive.action.")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise GraphError(131009, "Param interactive['action']['buttons'] must have 1 to 3 buttons.")
        for button in buttons:
            reply = _need(button, "reply", "interactive.action.buttons[].")
            _need(reply, "id", "interactive.action.buttons[].reply.")
            if len(str(_need(reply, "title", "interactive.action.buttons[].reply."))) > 20:
                raise GraphError(100, "Button title length must be at most 20 characters.")
    if kind == "list":
        _need(action, "button", "interactive.action.")
        sections = _need(action, "sections", "interactive.action.")
        rows = [row for section in sections if isinstance(section, dict) for row in section.get("rows") or []]
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10 or not rows:
            raise GraphError(131009, "Param interactive['action']['sections'] must have 1 to 10 sections with rows.")
        if len(rows) > 10:
            raise GraphError(131009, "Total row count exceed max allowed count: 10")
        for row in rows:
            _need(row, "id", "interactive.action.sections[].rows[].")
            if len(str(_need(row, "title", "interactive.action.sections[].rows[]."))) > 24:
                raise GraphError(100, "Row title length must be at most 24 characters.")


def _check_media(body: dict[str, Any]) -> None:
    kind = body["type"]
    media = _need(body, kind, "")
    if not (isinstance(media, dict) and (media.get("id") or media.get("link"))):
        raise GraphError(131008, f"The parameter {kind}.id or {kind}.link is required.")


CHECKS = {"text": _check_text, "template": _check_template, "interactive": _check_interactive}
CHECKS.update(dict.fromkeys(MEDIA_TYPES, _check_media))


def recipient_of(body: dict[str, Any]) -> str:
    """Who the send is for, as the 2026 Cloud API reads it: `to` holds a phone number (or a group id
    with `recipient_type: group`), `recipient` a business-scoped user id; `to` wins when both are
    given. A BSUID in `to` is refused (Meta's BSUID guidance: use `recipient` for BSUIDs)."""
    to = str(body.get("to") or "").strip()
    if body.get("recipient_type") == "group":
        return str(_need(body, "to", "")).strip()
    if to:
        if BSUID.match(to):
            raise GraphError(
                100, f"Param to {to!r} is not a phone number: send a business-scoped user id in recipient."
            )
        if not PHONE.match(_digits(to)):
            raise GraphError(100, f"Param to {to!r} is not a valid phone number.")
        return to
    recipient = str(body.get("recipient") or "").strip()
    if not recipient:
        raise GraphError(
            131008, "The parameter to (a phone number) or recipient (a business-scoped user id) is required."
        )
    if not BSUID.match(recipient):
        raise GraphError(100, f"Param recipient {recipient!r} is not a valid business-scoped user id.")
    return recipient


def validate(body: Any) -> tuple[str, str]:
    """Raises GraphError like Graph does; returns (normalised recipient, message type)."""
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
    if body.get("recipient_type", "individual") not in ("individual", "group"):
        raise GraphError(100, "Param recipient_type must be 'individual' or 'group'.")
    to = recipient_of(body)
    kind = body.setdefault("type", "text")
    if kind not in CHECKS:
        raise GraphError(131051, f"Message type {kind!r} is not supported.")
    CHECKS[kind](body)
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        raise GraphError(100, "Param biz_opaque_callback_data must be a string of at most 512 characters.")
    return to, kind


# ---------------------------------------------------------------------------------------- the fake


@dataclass
class Fault:
    code: int | None = None
    http_status: int | None = None
    count: int | None = None  # None: until cleared
    to: str | None = None
    type: str | None = None
    latency_ms: int = 0
    mode: str = "sync"  # "async": accept, then a `failed` status webhook
    message: str = ""

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Fault:
        known = {
            k: data[k] for k in ("code", "http_status", "count", "to", "type", "latency_ms", "message") if k in data
        }
        fault = cls(**known)
        if data.get("async"):
            fault.mode = "async"
        if fault.code is None and fault.http_status is not None:
            fault.code = STATUS_CODES.get(int(fault.http_status), 131000)
        if fault.to:
            fault.to = fault.to.lstrip("+")
        return fault

    @property
    def is_error(self) -> bool:
        return self.code is not None

    def applies(self, recipients: set[str], kind: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        return (self.to is None or self.to in recipients) and (self.type is None or self.type == kind)


@dataclass
class Behaviour:
    read_rate: float = 0.7
    reply_rate: float = 0.2
    reply_text: str = "Thanks! Tell me more"
    deliver: bool = True  # False: statuses stop at `sent`


@dataclass
class Contact:
    wa_id: str = ""
    user_id: str = ""
    name: str = ""


def _values(notification: Any) -> list[dict[str, Any]]:
    """The `value` objects of a notification's entries and changes, skipping whatever is not shaped so."""
    entries = notification.get("entry") if isinstance(notification, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                found.append(value)
    return found


@dataclass
class FakeWhatsApp:
    access_token: str
    phone_number_id: str
    app_secret: str
    behaviour: Behaviour = field(default_factory=Behaviour)
    max_attempts: int = 3  # webhook deliveries that fail are retried on later drains, then dropped

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._delivering = threading.Lock()  # one deliverer at a time keeps each message's statuses in order
        self.outbox: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.pending: deque[tuple[bytes, int]] = deque()
        self.dropped: list[dict[str, Any]] = []
        self._sequence: dict[str, int] = defaultdict(int)
        self._by_wa_id: dict[str, Contact] = {}
        self._by_user_id: dict[str, Contact] = {}
        self.groups = FakeGroups(self._queue_field, self._wamid)

    # --------------------------------------------------------------------------- identities
    def learn(self, notification: Any) -> None:
        """Remembers the (wa_id, user_id, name) triples of a webhook the app received.

        A notification of any other shape teaches nothing (the app itself decides what it accepts)."""
        for value in _values(notification):
            contacts = value.get("contacts")
            for contact in contacts if isinstance(contacts, list) else []:
                if not isinstance(contact, dict):
                    continue
                profile = contact.get("profile")
                name = profile.get("name") if isinstance(profile, dict) else ""
                wa_id, user_id = contact.get("wa_id"), contact.get("user_id")
                self.remember(
                    wa_id if isinstance(wa_id, str) else "",
                    user_id if isinstance(user_id, str) else "",
                    name if isinstance(name, str) else "",
                )

    def remember(self, wa_id: str, user_id: str, name: str = "") -> Contact:
        with self._lock:
            contact = self._by_wa_id.get(wa_id) or self._by_user_id.get(user_id) or Contact()
            contact.wa_id = wa_id or contact.wa_id
            contact.user_id = user_id or contact.user_id
            contact.name = name or contact.name
            if contact.wa_id:
                self._by_wa_id[contact.wa_id] = contact
            if contact.user_id:
                self._by_user_id[contact.user_id] = contact
            return contact

    def _contact_for(self, to: str) -> Contact:
        if BSUID.match(to):
            known = self._by_user_id.get(to)
            return known or self.remember("", to)
        wa_id = _digits(to).lstrip("+")
        known = self._by_wa_id.get(wa_id)
        return known if known and known.user_id else self.remember(wa_id, bsuid_for(wa_id))

    # ------------------------------------------------------------------------------ sending
    def handle_send(
        self, phone_number_id: str, headers: dict[str, str], raw: bytes, endpoint: str = "messages"
    ) -> Response:
        """`endpoint` is `messages` or `marketing_messages` (the Marketing Messages API: the same body,
        templates only; its sends are billed, and reported in statuses, as marketing)."""
        try:
            self._check_auth(headers)
            if phone_number_id != self.phone_number_id:
                raise GraphError(
                    100,
                    f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
                    "cannot be loaded due to missing permissions, or does not support this operation.",
                )
            body = self._parse(raw)
            if body.get("recipient_type") == "group":
                return json_response(200, self.groups.send(body))
            if body.get("status") == "read" and "message_id" in body:
                return json_response(200, {"success": True})
            to, kind = validate(body)
            if endpoint == "marketing_messages" and kind != "template":
                raise GraphError(100, "The Marketing Messages API sends templates only (type must be 'template').")
            body["_endpoint"] = endpoint
            contact = self._contact_for(to)
            fault = self._take_fault({_digits(to).lstrip("+"), contact.wa_id, contact.user_id}, kind)
            if fault is not None and fault.mode == "sync":
                raise GraphError(
                    int(fault.code or 131000), fault.message or "Injected by the local fake.", fault.http_status
                )
            return json_response(200, self._accept(phone_number_id, body, to, kind, contact, fault))
        except GraphError as error:
            return error.response()
        except GroupsError as error:
            return GraphError(error.code, error.message, error.http_status).response()

    def handle_groups(self, method: str, parts: list[str], headers: dict[str, str], raw: bytes) -> Response:
        """The Groups API endpoints (`parts`: the path after the version, local/fake_groups.py)."""
        try:
            self._check_auth(headers)
            body = self._parse(raw) if method in ("POST", "DELETE") and raw[:1] in (b"{", b"[") else {}
            if method == "POST" and len(parts) == 2 and parts[1] == "groups":
                if parts[0] != self.phone_number_id:
                    raise GraphError(100, f"Object with ID '{parts[0]}' does not exist.")
                return json_response(200, self.groups.create(body))
            if len(parts) == 2 and parts[1] == "invite_link" and method in ("GET", "POST"):
                return json_response(200, self.groups.invite_link(parts[0], reset=method == "POST"))
            if len(parts) == 2 and parts[1] == "join_requests" and method == "POST":
                return json_response(200, self.groups.approve(parts[0], body))
            if len(parts) == 1 and method == "DELETE":
                return json_response(200, self.groups.delete(parts[0]))
            if len(parts) == 1 and method == "POST":
                return json_response(200, self.groups.settings(parts[0]))
            raise GraphError(100, f"Unsupported {method} request.")
        except GraphError as error:
            return error.response()
        except GroupsError as error:
            return GraphError(error.code, error.message, error.http_status).response()

    def _queue_field(self, field_name: str, value: dict[str, Any]) -> None:
        """Queues a webhook of any field (the group fields) for the next delivery."""
        envelope = self._envelope(value)
        envelope["entry"][0]["changes"][0]["field"] = field_name
        self._queue(envelope)

    def _check_auth(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.access_token:
            raise GraphError(190, "Invalid OAuth access token.")

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError as error:
            raise GraphError(100, "The request body is not valid JSON.") from error
        if not isinstance(body, dict):
            raise GraphError(100, "The request body must be a JSON object.")
        return body

    def _take_fault(self, recipients: set[str], kind: str) -> Fault | None:
        with self._lock:
            slow = max((f.latency_ms for f in self.faults if not f.is_error and f.applies(recipients, kind)), default=0)
            chosen = next((f for f in self.faults if f.is_error and f.applies(recipients, kind)), None)
            for fault in self.faults:
                if (
                    fault.count is not None
                    and fault.applies(recipients, kind)
                    and (fault is chosen or not fault.is_error)
                ):
                    fault.count -= 1
        delay = max(slow, chosen.latency_ms if chosen else 0)
        if delay:
            time.sleep(delay / 1000)
        return chosen

    def _wamid(self, recipient: str) -> str:
        with self._lock:
            self._sequence[recipient] += 1
            number = self._sequence[recipient]
        raw = (
            f"{self.phone_number_id}\x15{recipient}\x15{number:08d}\x00"
            + hashlib.sha1(  # noqa: S324
                f"{recipient}:{number}".encode()
            )
            .hexdigest()[:20]
            .upper()
        )
        return "wamid." + base64.b64encode(raw.encode()).decode()

    def _accept(
        self, phone_number_id: str, body: dict[str, Any], to: str, kind: str, contact: Contact, fault: Fault | None
    ) -> dict[str, Any]:
        wamid = self._wamid(contact.user_id or contact.wa_id or to)
        endpoint = body.pop("_endpoint", "messages")
        entry: dict[str, Any] = {
            "to": to,
            "endpoint": endpoint,
            "wa_id": contact.wa_id,
            "user_id": contact.user_id,
            "type": kind,
            "wamid": wamid,
            "body": body,
            "text": _summary(body, kind),
            "biz_opaque_callback_data": body.get("biz_opaque_callback_data"),
            "sent_at": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),  # the local clock, moved or not
            "phone_number_id": phone_number_id,
            "statuses": [],
        }
        with self._lock:
            self.outbox.append(entry)
        self._queue_followups(entry, contact, fault)
        # a BSUID-only send answers with the user_id and no wa_id; a phone send with the wa_id
        contact_out: dict[str, Any] = {"input": to}
        if BSUID.match(to):
            contact_out["user_id"] = contact.user_id
        else:
            contact_out["wa_id"] = contact.wa_id
        return {
            "messaging_product": "whatsapp",
            "contacts": [contact_out],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    # ----------------------------------------------------------------------------- webhooks
    def _queue_followups(self, entry: dict[str, Any], contact: Contact, fault: Fault | None) -> None:
        wamid = entry["wamid"]
        if fault is not None:  # async failure: the send was accepted, then fails
            self._queue(self._status(entry, contact, "failed", error=fault))
            return
        self._queue(self._status(entry, contact, "sent"))
        if not self.behaviour.deliver:
            return
        read = _fraction(wamid, "read") < self.behaviour.read_rate
        if not read:
            self._queue(self._status(entry, contact, "delivered"))
        else:  # `read` implies delivered; WhatsApp may skip `delivered` when read at once, we send both
            self._queue(self._status(entry, contact, "delivered"))
            self._queue(self._status(entry, contact, "read"))
        if _fraction(wamid, "reply") < self.behaviour.reply_rate:
            self._queue(self._reply(entry, contact))

    def _queue(self, notification: dict[str, Any]) -> None:
        with self._lock:
            self.pending.append((json.dumps(notification).encode(), 0))

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return notification(value, self.phone_number_id)

    def _status(
        self, entry: dict[str, Any], contact: Contact, status: str, error: Fault | None = None
    ) -> dict[str, Any]:
        now = int(utcnow().timestamp())  # the local clock: a moved clock's statuses are as late as its sends
        item: dict[str, Any] = {
            "id": entry["wamid"],
            "status": status,
            "timestamp": str(now),
            "recipient_id": contact.wa_id,
        }
        if contact.user_id:
            item["recipient_user_id"] = contact.user_id
        if entry.get("biz_opaque_callback_data"):
            item["biz_opaque_callback_data"] = entry["biz_opaque_callback_data"]
        # what WhatsApp bills it as: marketing through the Marketing Messages API, a template through
        # /messages as utility, anything else as a service message
        category = (
            "marketing"
            if entry.get("endpoint") == "marketing_messages"
            else "utility"
            if entry["type"] == "template"
            else "service"
        )
        if status in ("sent", "delivered"):
            conversation: dict[str, Any] = {
                "id": hashlib.md5(contact.wa_id.encode()).hexdigest(),
                "origin": {"type": category},
            }  # noqa: S324
            if status == "sent":
                conversation["expiration_timestamp"] = str(now + 86400)
            item["conversation"] = conversation
            item["pricing"] = {
                "billable": True,
                "pricing_model": "PMP",
                "type": "free_customer_service" if category == "service" else "regular",
                "category": category,
            }
        value: dict[str, Any] = {"statuses": [item]}
        if error is not None:
            graph = GraphError(int(error.code or 131000), error.message or "Injected by the local fake.")
            item["errors"] = [
                {
                    "code": graph.code,
                    "title": graph.title,
                    "message": graph.title,
                    "error_data": {"details": graph.details},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        else:
            value["contacts"] = [self._contact_json(contact)]
        return self._envelope(value)

    def _contact_json(self, contact: Contact) -> dict[str, Any]:
        data: dict[str, Any] = {
            "profile": {"name": contact.name or f"Customer {contact.wa_id[-4:] or contact.user_id[-4:]}"}
        }
        data["wa_id"] = contact.wa_id
        if contact.user_id:
            data["user_id"] = contact.user_id
        return data

    def _reply(self, entry: dict[str, Any], contact: Contact) -> dict[str, Any]:
        message: dict[str, Any] = {
            "from": contact.wa_id,
            "id": "wamid." + base64.b64encode(f"reply:{entry['wamid']}".encode()).decode(),
            "timestamp": str(int(utcnow().timestamp())),
            "type": "text",
            "text": {"body": self.behaviour.reply_text},
            "context": {"from": DISPLAY_PHONE_NUMBER, "id": entry["wamid"]},
        }
        if contact.user_id:
            message["from_user_id"] = contact.user_id
        return self._envelope({"contacts": [self._contact_json(contact)], "messages": [message]})

    def signed(self, body: bytes) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "user-agent": "facebookexternalua",
            "x-hub-signature-256": sign(body, self.app_secret),
        }

    def deliver_pending(self, post: Any) -> dict[str, int]:
        """POSTs every queued webhook through `post(body, headers) -> status`; failures retry later."""
        with self._delivering:
            return self._deliver(post)

    def _deliver(self, post: Any) -> dict[str, int]:
        delivered = failed = 0
        with self._lock:
            batch, self.pending = list(self.pending), deque()
        retry: list[tuple[bytes, int]] = []
        for body, attempts in batch:
            status = post(body, self.signed(body))
            if 200 <= status < 300:
                delivered += 1
                self._note_status(body)
                continue
            failed += 1
            if attempts + 1 < self.max_attempts:
                retry.append((body, attempts + 1))
            else:
                self.dropped.append({"status": status, "body": json.loads(body)})
        with self._lock:
            self.pending.extendleft(reversed(retry))
        return {"delivered": delivered, "failed": failed}

    def _note_status(self, body: bytes) -> None:
        notification = json.loads(body)
        statuses = notification["entry"][0]["changes"][0]["value"].get("statuses") or []
        with self._lock:
            by_wamid = {e["wamid"]: e for e in self.outbox}
            for status in statuses:
                if status["id"] in by_wamid:
                    by_wamid[status["id"]]["statuses"].append(status["status"])

    # ------------------------------------------------------------------------------ control
    def add_fault(self, data: dict[str, Any]) -> Fault:
        fault = Fault.parse(data)
        if fault.code is not None and fault.code not in ERRORS:
            ERRORS.setdefault(fault.code, (int(fault.http_status or 400), "Error"))
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def set_behaviour(self, data: dict[str, Any]) -> Behaviour:
        fields = {k: data[k] for k in ("read_rate", "reply_rate", "reply_text", "deliver") if k in data}
        with self._lock:
            self.behaviour = replace(self.behaviour, **fields)
        return self.behaviour

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e, statuses=list(e["statuses"])) for e in self.outbox]

    def clear_outbox(self) -> None:
        with self._lock:
            self.outbox.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": [asdict(f) for f in self.faults],
                "behaviour": asdict(self.behaviour),
                "pending_webhooks": len(self.pending),
                "dropped_webhooks": len(self.dropped),
                "sent": len(self.outbox),
            }


def _digits(to: str) -> str:
    """A phone number as typed ("+49 151 1234-5678", "(650) 555") without its punctuation."""
    return re.sub(r"[\s()\-.]", "", to) if not BSUID.match(to) else to


def _summary(body: dict[str, Any], kind: str) -> str:
    if kind == "text":
        return str(body["text"]["body"])
    if kind == "template":
        return f"template {body['template']['name']} ({body['template']['language']['code']})"
    if kind == "interactive":
        return str((body["interactive"].get("body") or {}).get("text", "interactive"))
    return kind

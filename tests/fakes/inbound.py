"""In-memory fakes of the ports the webhook domain uses (unit tests: no moto, no sockets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage.customers.profiles import Customer
from engage.delivery.send_status import Outcome, SendRef, StatusChange, allows, fields_after
from engage.inbound.history import HistoryEvent, ProfileTouch
from engage.inbound.ports import InboundPorts


class FakeCustomers:
    """IdentityStore: profiles by id, identities as ("wa_id"|"user_id", value) -> customer id."""

    def __init__(self) -> None:
        self.profiles: dict[str, Customer] = {}
        self.identities: dict[tuple[str, str], str] = {}
        self.extra: dict[str, dict[str, Any]] = {}  # stored profile fields the model does not hold
        self.writes = 0

    def get(self, customer_id: str) -> Customer | None:
        customer = self.profiles.get(customer_id)
        return customer.model_copy(deep=True) if customer else None

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None:
        if user_id:
            return self.identities.get(("user_id", user_id))
        return self.identities.get(("wa_id", wa_id)) if wa_id else None

    def create(self, customer: Customer) -> bool:
        idents = [(k, v) for k, v in (("wa_id", customer.wa_id), ("user_id", customer.user_id)) if v]
        if customer.id in self.profiles or any(i in self.identities for i in idents):
            return False
        self.writes += 1
        self.profiles[customer.id] = customer.model_copy(deep=True)
        for ident in idents:
            self.identities[ident] = customer.id
        return True

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool:
        kind, value = ("wa_id", wa_id) if wa_id else ("user_id", user_id)
        if (kind, value) in self.identities or customer_id not in self.profiles:
            return False
        self.writes += 1
        self.identities[(kind, str(value))] = customer_id
        setattr(self.profiles[customer_id], kind, value)
        return True

    def move_identity(self, customer_id: str, *, old: dict[str, str | None], new: dict[str, str]) -> bool:
        (kind, value), (_, old_value) = next(iter(new.items())), next(iter(old.items()))
        owner = self.identities.get((kind, value))
        if owner not in (None, customer_id) or customer_id not in self.profiles:
            return False
        self.writes += 1
        self.identities[(kind, value)] = customer_id
        if old_value and old_value != value and self.identities.get((kind, old_value)) == customer_id:
            del self.identities[(kind, old_value)]
        setattr(self.profiles[customer_id], kind, value)
        return True

    def update(self, customer_id: str, **fields: Any) -> None:
        self.writes += 1
        profile = self.profiles[customer_id]
        for name, value in fields.items():
            setattr(profile, name, value)

    # what the store's profile touch does, in memory
    def touch(self, customer_id: str, touch: ProfileTouch) -> bool:
        profile = self.profiles.get(customer_id)
        if profile is None:
            return False
        document = profile.model_dump()
        for path, value in touch.not_after.items():
            stored = _path(document, path)
            if stored is not None and stored > value:
                return False
        self.writes += 1
        for name, value in touch.set_if_absent.items():
            if document.get(name) is None:
                document[name] = value
        document.update(touch.set)
        extra = {k: v for k, v in document.items() if k not in Customer.model_fields}
        self.profiles[customer_id] = Customer.model_validate(document)
        self.extra.setdefault(customer_id, {}).update(extra)
        return True


def _path(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class FakeStore:
    """InboundStore and SendStore in memory; `writes` counts what DynamoDB would count as writes."""

    def __init__(self, customers: FakeCustomers, config: dict[str, dict[str, Any]] | None = None) -> None:
        self.customers = customers
        self.events: dict[tuple[str, str, str, str], HistoryEvent] = {}
        self.sends: dict[SendRef, dict[str, Any]] = {}
        self.pointers: dict[str, SendRef] = {}
        self.tags: dict[tuple[str, str], dict[str, Any]] = {}
        self.invites: dict[tuple[str, str], dict[str, Any]] = {}
        self.kept: dict[tuple[str, str], Any] = {}
        self.configs = config or {}
        self.writes = 0

    # history and profile
    def put_event(self, event: HistoryEvent) -> bool:
        key = (event.customer_id, event.occurred_at, event.kind, event.event_id)
        if key in self.events:
            return False
        self.writes += 1
        self.events[key] = event
        return True

    def touch_profile(self, customer_id: str, touch: ProfileTouch) -> bool:
        applied = self.customers.touch(customer_id, touch)
        self.writes += int(applied)
        self.customers.writes -= int(applied)
        return applied

    # sends
    def add_send(self, customer_id: str, send_key: str, *, pointer: bool = False, **fields: Any) -> SendRef:
        """A send item; `pointer` also writes its `WAMID#` pointer, as sends made before did."""
        ref = SendRef(customer_id, send_key)
        self.sends[ref] = {"customer_id": customer_id, "send_key": send_key, "type": "send", **fields}
        if pointer and fields.get("wamid"):
            self.pointers[fields["wamid"]] = ref
        return ref

    def add_pointer(self, wamid: str, ref: SendRef) -> None:
        """Only a pointer (the send item lost its wamid, or never had it): how old sends were found."""
        self.pointers[wamid] = ref

    def send_for_wamid(self, wamid: str) -> SendRef | None:
        return self.pointers.get(wamid)

    def get_send(self, ref: SendRef) -> dict[str, Any] | None:
        return self.sends.get(ref)

    def customer_sends(self, customer_id: str) -> list[dict[str, Any]]:
        return [dict(s) for ref, s in self.sends.items() if ref.customer_id == customer_id]

    def apply_status(self, ref: SendRef, change: StatusChange) -> Outcome:
        outcome = allows(self.sends.get(ref), change)
        if outcome == "applied":
            self.writes += 1
            self.sends[ref] = fields_after(self.sends[ref], change)
        return outcome

    def mark_replied(self, ref: SendRef, *, at: str, opted_out: bool = False) -> bool:
        send = self.sends.get(ref)
        if send is None:
            return False
        self.writes += 1
        send.setdefault("replied_at", at)
        if opted_out:
            send.setdefault("opted_out_at", at)
        return True

    # tags, referrals, inspection, config
    def put_tag(self, customer_id: str, tag: str, *, since: str, source: str, reason: str, event_id: str) -> bool:
        if (customer_id, tag) in self.tags:
            return False
        self.writes += 1
        self.tags[(customer_id, tag)] = {"since": since, "source": source, "reason": reason, "event_id": event_id}
        return True

    def put_referral_invite(self, code: str, invitee_id: str, *, at: str, wamid: str) -> bool:
        if (code, invitee_id) in self.invites:
            return False
        self.writes += 1
        self.invites[(code, invitee_id)] = {"invited_at": at, "wamid": wamid}
        return True

    def keep(self, reason: str, content: Any, *, now: datetime, key: str | None = None, days: int = 30) -> bool:
        index = (reason, key or repr(content))
        if index in self.kept:
            return False
        self.writes += 1
        self.kept[index] = content
        return True

    def config(self, area: str) -> dict[str, Any] | None:
        return self.configs.get(area)

    # helpers for assertions
    def messages_of(self, customer_id: str) -> list[HistoryEvent]:
        return sorted(
            (e for k, e in self.events.items() if k[0] == customer_id and e.kind == "message"),
            key=lambda e: (e.occurred_at, e.event_id),
        )

    def kept_reasons(self) -> list[str]:
        return sorted(reason for reason, _ in self.kept)


class FakeQueue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        self.bodies.extend(bodies)


class World:
    """Everything a unit test needs: customers, store, queue and the ports tying them together."""

    def __init__(self, config: dict[str, dict[str, Any]] | None = None) -> None:
        self.customers = FakeCustomers()
        self.store = FakeStore(self.customers, config)
        self.queue = FakeQueue()
        self.ports = InboundPorts(customers=self.customers, store=self.store, queue=self.queue)

    def customer(self, *, wa_id: str | None = None, user_id: str | None = None) -> Customer:
        customer_id = self.customers.find_id(user_id=user_id) if user_id else self.customers.find_id(wa_id=wa_id)
        assert customer_id, f"no customer for {wa_id or user_id}"
        customer = self.customers.get(customer_id)
        assert customer is not None
        return customer

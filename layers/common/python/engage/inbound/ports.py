"""The ports the inbound capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engage.core.errors import StorageError

if TYPE_CHECKING:
    from concurrent.futures import Executor
    from datetime import datetime

    from engage.core.ports import Queue
    from engage.customers.ports import IdentityStore
    from engage.delivery.send_status import Outcome, SendRef, StatusChange
    from engage.inbound.groups import GroupUpdates
    from engage.inbound.history import HistoryEvent, ProfileTouch
    from engage.inbound.shop_events import ProfileDelta
    from engage.inbound.templates import TemplateUpdates


class SendStore(Protocol):
    """Send items as the reply attribution sees them."""

    def send_for_wamid(self, wamid: str) -> SendRef | None: ...

    def get_send(self, ref: SendRef) -> dict[str, Any] | None: ...

    def customer_sends(self, customer_id: str) -> list[dict[str, Any]]: ...

    def mark_replied(self, ref: SendRef, *, at: str, opted_out: bool = False) -> bool:
        """Sets `replied_at` (and `opted_out_at`) once; False if the send does not exist."""
        ...


class InboundStore(SendStore, Protocol):
    """What the webhook writes besides customers: history, statuses, tags, referrals, kept payloads."""

    def put_event(self, event: HistoryEvent) -> bool:
        """Stores a history item once; False if it was already there."""
        ...

    def touch_profile(self, customer_id: str, touch: ProfileTouch) -> bool:
        """One conditional update of an existing profile; False when a guard or the profile is missing."""
        ...

    def apply_status(self, ref: SendRef, change: StatusChange) -> Outcome: ...

    def put_tag(self, customer_id: str, tag: str, *, since: str, source: str, reason: str, event_id: str) -> bool:
        """Adds the membership with its tag change log entry; False when the customer already held it."""
        ...

    def put_referral_invite(self, code: str, invitee_id: str, *, at: str, wamid: str) -> bool: ...

    def keep(self, reason: str, content: Any, *, now: datetime, key: str | None = None, days: int = 30) -> bool:
        """Keeps something that could not be used, for inspection (expires after `days`)."""
        ...

    def config(self, area: str) -> dict[str, Any] | None: ...


class ShopEventWriter(Protocol):
    """Records a shop event once, with its profile delta and shop totals."""

    def record(self, item: dict[str, Any], delta: ProfileDelta, shop_add: dict[str, float]) -> bool:
        """Claims the event id and writes history item, profile delta and shop stats at once; False if seen."""
        ...


def storage_error(error: BaseException) -> bool:
    return isinstance(error, StorageError)


@dataclass
class InboundPorts:
    """What the webhook's processing of one notification uses."""

    customers: IdentityStore
    store: InboundStore
    queue: Queue
    pool: Executor | None = None  # independent writes in parallel (thread-safe adapters only)
    template_updates: TemplateUpdates | None = None  # template notifications (engage.inbound.templates)
    group_updates: GroupUpdates | None = None  # group notifications and group messages (engage.inbound.groups)
    # An infrastructure failure (retry the notification) rather than a part that cannot be stored.
    transient: Callable[[BaseException], bool] = storage_error
    # The business numbers (metadata.phone_number_id) whose notifications are processed; None: any.
    phone_number_ids: frozenset[str] | None = None

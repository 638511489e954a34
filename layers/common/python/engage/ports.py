"""The ports the domain owns. Adapters in `engage.adapters` implement them; tests use fakes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from engage.customers import Customer
    from engage.inbound import HistoryEvent, ProfileTouch
    from engage.statuses import Outcome, SendRef, StatusChange


class CustomerStore(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None: ...

    def create(self, customer: Customer) -> bool:
        """Creates profile and identity items at once; False if an identity is already taken."""
        ...

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool: ...

    def update(self, customer_id: str, **fields: Any) -> None: ...


class Queue(Protocol):
    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        """Sends every body (batched by the adapter); raises if any could not be queued."""
        ...


class IdentityStore(CustomerStore, Protocol):
    def move_identity(self, customer_id: str, *, old: dict[str, str | None], new: dict[str, str]) -> bool:
        """Replaces one identity by another; False if the new one belongs to someone else."""
        ...


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


# ---------------------------------------------------------------- tagging
class TagCatalogStore(Protocol):
    def all(self, *, fresh: bool = False) -> dict[str, Any]: ...

    def get(self, name: str) -> Any: ...

    def create(self, definition: Any, entry: Any) -> bool: ...

    def save(self, definition: Any, entry: Any = None) -> None: ...

    def remove(self, name: str, entry: Any) -> None: ...


class RuleStore(Protocol):
    def all(self) -> list[Any]: ...

    def enabled(self) -> list[Any]: ...

    def get(self, rule_id: str) -> Any: ...

    def create(self, rule: Any, *, now: str, by: str) -> bool: ...

    def save(self, rule: Any, *, now: str, by: str) -> None: ...

    def delete(self, rule_id: str) -> None: ...

    def installed(self) -> bool: ...

    def mark_installed(self, now: str, version: int) -> bool: ...


class TagChangeWriter(Protocol):
    def apply(self, changes: list[Any]) -> list[Any]:
        """Applies each change with its log entry; returns those that took effect (replays do not)."""
        ...

    def apply_batch(self, changes: list[Any]) -> list[Any]:
        """Unconditional batch writes, for writers that keep their own ledger (the nightly pass)."""
        ...


class MembershipReader(Protocol):
    def of_customer(self, customer_id: str) -> list[dict[str, Any]]: ...


class LinkShortener(Protocol):
    def shorten(
        self,
        customer_id: str,
        campaign_id: str | None,
        variant: str | None,
        label: str,
        target: str,
        now: datetime,
    ) -> str:
        """A short tracked URL (`<base>/r/<code>`) for `target`; raises `Invalid` for a bad target.

        The link belongs to the customer's send of `campaign_id` (its send key); an optional
        keyword `send_key=` names another send."""
        ...


class Alerts(Protocol):
    def publish(self, alert: dict[str, Any]) -> None:
        """Tells the operators (the alerts topic); raises if it could not."""
        ...


# ---------------------------------------------------------------- segments (engage.segments)


class TagCatalog(Protocol):
    """The tag names a rule may use. Swappable: the tag catalog's own adapter can stand in."""

    def names(self) -> set[str]: ...


class AudienceReader(Protocol):
    """What the segment evaluator reads; every method pages through everything (no truncation)."""

    def member_sets(self, tags: Sequence[str]) -> dict[str, set[str]]:
        """Customer ids holding each tag (from the tag-membership index)."""
        ...

    def profiles(self, customer_ids: Sequence[str]) -> Iterable[Customer]:
        """The profiles of these customers that exist (batched reads)."""
        ...

    def every_profile(self) -> Iterable[Customer]:
        """The whole customer base (a parallel read of the customers index)."""
        ...

    def base_size(self) -> int | None:
        """An estimate of the number of customers, without reading them (None when unknown)."""
        ...

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        """How many `order_placed` events the customer has with since <= occurred_at <= until."""
        ...


class SegmentStore(Protocol):
    """Saved segments, their daily sizes and the base-size estimate (engage.adapters.dynamo.segments)."""

    def create(self, item: dict[str, Any]) -> bool: ...

    def get(self, segment_id: str) -> dict[str, Any] | None: ...

    def list_all(self) -> list[dict[str, Any]]: ...

    def save(self, item: dict[str, Any]) -> None: ...

    def delete(self, segment_id: str) -> bool: ...

    def record_size(self, segment_id: str, day: str, count: int, *, at: str) -> None: ...

    def sizes(self, segment_id: str, *, limit: int = 30) -> list[dict[str, Any]]: ...

    def save_stats(self, stats: dict[str, Any]) -> None: ...


class SnapshotStore(Protocol):
    """Campaign audience snapshots (engage.adapters.dynamo.segments)."""

    def summary(self, campaign_id: str) -> dict[str, Any] | None: ...

    def put_summary(self, campaign_id: str, summary: dict[str, Any]) -> bool: ...

    def write_members(self, campaign_id: str, members: dict[str, list[str]]) -> None: ...

    def member_ids(self, campaign_id: str) -> set[str]: ...

    def remove_members(self, campaign_id: str, customer_ids: Iterable[str]) -> None: ...

    def page(self, campaign_id: str, after: str | None, limit: int) -> list[str]: ...


# ---------------------------------------------------------------- sending (campaigns, sender, dispatcher)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from engage.campaigns import Campaign
    from engage.outbound import Outbound, SendResult
    from engage.sendconfig import SendingConfig
    from engage.sends import SendItem


class WhatsAppSender(Protocol):
    def send(self, message: Outbound) -> SendResult: ...


class AudienceSource(Protocol):
    """Campaign audiences: a snapshot at launch, then pages (engage/segments/snapshots.py)."""

    def snapshot_audience(self, campaign_id: str, segment_id_or_rule: Any, now: datetime) -> int: ...

    def audience_page(self, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]: ...


class SendLedger(Protocol):
    def history(self, customer_id: str) -> tuple[list[dict[str, Any]], str | None]:
        """Every send item of the customer and the pair guard's last_sent_at."""
        ...

    def save(self, item: SendItem, *, when: str = "open") -> bool:
        """Writes the item when the stored one is absent or open ("open"), an intent ("intent"), or always."""
        ...

    def mark_sent(self, item: SendItem) -> None: ...

    def claim_pair(self, customer_id: str, now: datetime, seconds: float) -> bool: ...

    def due(self, now: datetime, page_size: int) -> Iterator[SendItem]:
        """Deferred items whose release time has come, read lazily (`page_size` a read); an item
        already yielded is not yielded again by the same iterator."""
        ...

    def release(self, item: SendItem, now: datetime) -> bool:
        """Takes it off its index once its job is queued again; False (nothing written) when it is off
        the index already or, read as due, has been deferred again since (another release time)."""
        ...

    def parked(self, campaign_id: str) -> Iterator[SendItem]: ...

    def of_campaign(self, campaign_id: str) -> Iterator[SendItem]: ...


class CampaignStore(Protocol):
    def get(self, campaign_id: str) -> Campaign | None: ...

    def save(self, campaign: Campaign, *, expect_status: str | None = None) -> bool: ...

    def active(self) -> list[Campaign]: ...

    def all(self) -> list[Campaign]: ...


class ConfigSource(Protocol):
    def sending(self) -> SendingConfig: ...


class RetryDelay(Protocol):
    def delay(self, receipt_handle: str, seconds: int) -> None: ...


class TemplateStore(Protocol):
    def get(self, name: str, language: str) -> Any: ...

    def put(self, template: Any) -> None: ...

    def all(self) -> list[Any]: ...

    def delete(self, name: str, language: str) -> None: ...

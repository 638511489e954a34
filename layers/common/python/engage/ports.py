"""The ports the domain owns. Adapters in `engage.adapters` implement them; tests use fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engage.customers import Customer


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


class Alerts(Protocol):
    def publish(self, subject: str, message: str, details: dict[str, Any] | None = None) -> None: ...


class AudienceSource(Protocol):
    """The segments area's snapshot (engage/segments/snapshots.py) or the tag-only stand-in."""

    def snapshot_audience(self, campaign_id: str, segment_id_or_rule: Any, now: datetime) -> int: ...

    def audience_page(self, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]: ...


class LinkShortener(Protocol):
    def link(self, *, campaign_id: str | None, customer_id: str, target: str) -> str: ...


class SendStore(Protocol):
    def history(self, customer_id: str) -> tuple[list[dict[str, Any]], str | None]:
        """Every send item of the customer and the pair guard's last_sent_at."""
        ...

    def save(self, item: SendItem, *, when: str = "open") -> bool:
        """Writes the item when the stored one is absent or open ("open"), an intent ("intent"), or always."""
        ...

    def mark_sent(self, item: SendItem) -> None: ...

    def claim_pair(self, customer_id: str, now: datetime, seconds: float) -> bool: ...

    def due(self, now: datetime, limit: int) -> list[SendItem]: ...

    def release(self, item: SendItem, now: datetime) -> bool: ...

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

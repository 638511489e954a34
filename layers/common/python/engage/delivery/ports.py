"""The ports the delivery capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from engage.customers.profiles import Customer
    from engage.delivery.config import SendingConfig
    from engage.delivery.outbound import Outbound, SendResult
    from engage.delivery.sends import SendItem
    from engage.delivery.throttle import Claim


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


class CouponIssuer(Protocol):
    def issue(self, pool_id: str, customer_id: str, reason: str, now: datetime) -> str | None:
        """A unique code of the pool for the customer, the same one for the same (pool, customer,
        reason) however often asked; None when the pool can give none (closed, ended, exhausted)."""
        ...


class ReferralLinks(Protocol):
    def variables(self, customer_id: str, now: datetime) -> dict[str, str]:
        """`referral_code` and `referral_link` (when the business number is set) of the customer."""
        ...


class WhatsAppSender(Protocol):
    def send(self, message: Outbound) -> SendResult: ...


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


class ConfigSource(Protocol):
    def sending(self) -> SendingConfig: ...


class RetryDelay(Protocol):
    def delay(self, receipt_handle: str, seconds: int) -> None: ...


class ProfileBatch(Protocol):
    """Profiles read many at a time (the sender prefetches a batch's recipients)."""

    def get_many(self, customer_ids: list[str]) -> dict[str, Customer]: ...


class BucketStore(Protocol):
    """Shared token buckets (GCRA): slots claimed and given back atomically."""

    def claim(self, key: str, *, now_us: int, count: int, interval_us: int, lookahead_us: int) -> Claim: ...

    def give_back(self, key: str, *, count: int, interval_us: int, end_us: int) -> bool:
        """Moves `tat` back by `count` slots if it still is `end_us` (they are the last booked)."""
        ...

"""The ports the campaigns capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from engage.campaigns.campaign import Campaign
    from engage.campaigns.templates import Template


class AudienceSource(Protocol):
    """Campaign audiences: a snapshot at launch, then pages (engage/segments/snapshots.py)."""

    def snapshot_audience(
        self, campaign_id: str, segment_id_or_rule: str | dict[str, Any] | None, now: datetime
    ) -> int: ...

    def audience_page(self, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]: ...


class AudienceCheck(Protocol):
    """Checks a campaign's audience when it is created or edited (engage/segments/snapshots.py)."""

    def has_segment(self, segment_id: str) -> bool: ...

    def checked_rule(self, rule: dict[str, Any] | str) -> dict[str, Any]:
        """The rule (JSON or text form) validated as a preview would, in its JSON form; raises Invalid."""
        ...


class CampaignStore(Protocol):
    def get(self, campaign_id: str) -> Campaign | None: ...

    def save(self, campaign: Campaign, *, expect_status: str | None = None) -> bool: ...

    def delete(self, campaign_id: str, *, expect_status: str) -> bool: ...

    def active(self) -> list[Campaign]: ...

    def all(self) -> list[Campaign]: ...


class TemplateStore(Protocol):
    def get(self, name: str, language: str) -> Template | None: ...

    def put(self, template: Template) -> None: ...

    def all(self) -> list[Template]: ...

    def delete(self, name: str, language: str) -> None: ...


class TierLedger(Protocol):
    """Business-initiated recipients planned per hour, against the messaging tier."""

    def used(self, now: datetime) -> tuple[int, str | None]: ...

    def add(self, now: datetime, count: int) -> None: ...


class AudienceWriter(Protocol):
    """Writes an explicit audience (a follow-up to those not reached)."""

    def write(
        self, campaign_id: str, customer_ids: list[str], now: datetime, reasons: dict[str, str] | None = None
    ) -> int: ...

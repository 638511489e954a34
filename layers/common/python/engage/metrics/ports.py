"""The ports the metrics capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from engage.metrics.counters import BatchCount, StreamChange
    from engage.metrics.funnel import MetricsConfig
    from engage.metrics.links import Click, TrackedLink


class CounterStore(Protocol):
    """Exactly-once counters of send-item transitions (engage.adapters.dynamo.metrics_counters)."""

    def apply_batch(self, lane: str, records: list[StreamChange], now: datetime) -> BatchCount:
        """Adds up the records (in stream order) and writes each counter once, together with the
        lane's new position; records at or below the lane's position are already counted."""
        ...


class LinkStore(Protocol):
    """Tracked links and their clicks (engage.adapters.dynamo.metrics_links)."""

    def create(self, link: TrackedLink) -> bool:
        """Stores a new link; False when the code is taken."""
        ...

    def get(self, code: str) -> TrackedLink | None: ...

    def mark_clicked(self, customer_id: str, send_key: str, at: datetime) -> dict[str, Any] | None:
        """Sets clicked_at on the send item if it has none; returns the send item (None if no such send)."""
        ...

    def record_click(self, click: Click) -> bool:
        """History event + total-click counters, once per click id. False when already recorded."""
        ...

    def record_bot_hit(self, code: str, at: datetime) -> None: ...


class AlertStore(Protocol):
    """Open metric alerts and their log (engage.adapters.dynamo.metrics_alerts)."""

    def open_alerts(self) -> dict[str, dict[str, Any]]: ...

    def open(self, alert: dict[str, Any]) -> bool:
        """Stores a new open alert; False when one with the same key is already open."""
        ...

    def close(self, key: str, now: datetime, reason: str) -> dict[str, Any] | None: ...

    def mark_published(self, key: str, at: datetime) -> None: ...


class MetricsReader(Protocol):
    """What the hourly alert and 24-hour report jobs read and write (counters, campaigns, reports)."""

    def config(self) -> MetricsConfig: ...

    def active_campaigns(self, days: list[str]) -> dict[str, str]: ...

    def campaign_rows(self, campaign_id: str) -> list[dict[str, Any]]: ...

    def daily_rows(self, from_day: str, to_day: str) -> list[dict[str, Any]]: ...

    def campaign_meta(self, campaign_id: str) -> dict[str, Any] | None: ...

    def get_report(self, campaign_id: str) -> dict[str, Any] | None: ...

    def put_report(self, campaign_id: str, report: dict[str, Any]) -> bool: ...

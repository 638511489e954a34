"""The ports the core capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from typing import Any, Protocol


class Queue(Protocol):
    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        """Sends every body (batched by the adapter); raises if any could not be queued."""
        ...


class Alerts(Protocol):
    def publish(self, alert: dict[str, Any]) -> None:
        """Tells the operators (the alerts topic); raises if it could not."""
        ...

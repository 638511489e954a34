"""The ports the tuning capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from typing import Any, Protocol


class SettingsStore(Protocol):
    def documents(self) -> dict[str, dict[str, Any]]:
        """The stored document of each settings area (absent areas are missing: their defaults hold)."""
        ...

    def save(self, documents: dict[str, dict[str, Any]], entry: dict[str, Any]) -> bool:
        """Writes the changed areas and the change-log entry at once; False if the entry exists (a replay)."""
        ...

    def log(self, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Change-log entries newest first, and the cursor of the next page (None at the end)."""
        ...

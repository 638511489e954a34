"""In-memory stand-in for the tuning capability's SettingsStore port."""

from __future__ import annotations

import copy
from typing import Any


class InMemorySettings:
    def __init__(self, documents: dict[str, dict[str, Any]] | None = None):
        self.stored: dict[str, dict[str, Any]] = copy.deepcopy(documents or {})
        self.entries: list[dict[str, Any]] = []

    def documents(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self.stored)

    def save(self, documents: dict[str, dict[str, Any]], entry: dict[str, Any]) -> bool:
        if any(e["id"] == entry["id"] and e["at"] == entry["at"] for e in self.entries):
            return False
        self.stored.update(copy.deepcopy(documents))
        self.entries.append(copy.deepcopy(entry))
        return True

    def log(self, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        newest = sorted(self.entries, key=lambda e: (e["at"], e["id"]), reverse=True)
        start = int(cursor or 0)
        page = newest[start : start + limit]
        return page, str(start + limit) if start + limit < len(newest) else None

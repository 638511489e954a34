"""In-memory stand-ins for the audience capability's read ports (customer search, the timeline)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engage.audience.names import search_name
from engage.audience.search import Path, Profile


class InMemoryHistory:
    """One customer partition: items keyed by sk."""

    def __init__(self, items: Sequence[Mapping[str, Any]]):
        self.items = sorted(items, key=lambda i: str(i["sk"]))
        self.read = 0  # items handed out, to show pages are read lazily

    def _newest_first(self, prefix: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        upper = f"{prefix}{until}#~" if until else f"{prefix}~"
        for item in reversed(self.items):
            if prefix <= str(item["sk"]) <= upper:
                self.read += 1
                yield item

    def events(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        return self._newest_first("EVT#", until)

    def tag_changes(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        return self._newest_first("TAGLOG#", until)

    def sends(self, customer_id: str) -> list[Mapping[str, Any]]:
        return [i for i in self.items if str(i["sk"]).startswith("SEND#")]


class InMemoryDirectory:
    def __init__(self, profiles: Sequence[Profile], tags: Mapping[str, set[str]] | None = None):
        self.by_id = {p.id: p for p in profiles}
        self.tags = {k: set(v) for k, v in (tags or {}).items()}
        self.examined = 0

    def candidates(self, path: Path, value: str | None, after: str | None, limit: int) -> list[tuple[str, str]]:
        if path == "name":
            rows = [(f"{search_name(p.name)}#{p.id}", p.id) for p in self.by_id.values() if p.name]
            rows = [r for r in rows if r[0].startswith(value or "")]
        elif path == "phone":
            rows = [(p.wa_id, p.id) for p in self.by_id.values() if p.wa_id and p.wa_id.startswith(value or "")]
        elif path == "tag":
            rows = [(f"CUST#{c}", c) for c in self.tags.get(value or "", set())]
        else:
            rows = [(p.id, p.id) for p in self.by_id.values()]
        page = [r for r in sorted(rows) if after is None or r[0] > after][:limit]
        self.examined += len(page)
        return page

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Profile]:
        return {c: self.by_id[c] for c in customer_ids if c in self.by_id}

    def holders(self, tag: str, customer_ids: Sequence[str]) -> set[str]:
        return set(customer_ids) & self.tags.get(tag, set())

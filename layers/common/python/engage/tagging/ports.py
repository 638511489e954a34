"""The ports the tagging capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from engage.tagging.catalog import TagChange, TagDefinition, TagLogEntry
    from engage.tagging.rules import Event, Rule


class TagCatalogStore(Protocol):
    """The tag catalog: definitions, each change logged. (Segments only read names: `segments.ports.TagNames`.)"""

    def all(self, *, fresh: bool = False) -> dict[str, TagDefinition]: ...

    def get(self, name: str) -> TagDefinition | None: ...

    def create(self, definition: TagDefinition, entry: TagLogEntry) -> bool: ...

    def save(self, definition: TagDefinition, entry: TagLogEntry | None = None) -> None: ...

    def remove(self, name: str, entry: TagLogEntry) -> None: ...

    def touch(self, names: list[str], now: str) -> None:
        """Marks tags as used by a campaign now (tag health's "silent" reads it)."""
        ...


class RuleStore(Protocol):
    def all(self) -> list[Rule]: ...

    def enabled(self) -> list[Rule]: ...

    def get(self, rule_id: str) -> Rule | None: ...

    def create(self, rule: Rule, *, now: str, by: str) -> bool: ...

    def save(self, rule: Rule, *, now: str, by: str) -> None: ...

    def delete(self, rule_id: str) -> None: ...

    def installed(self) -> bool: ...

    def mark_installed(self, now: str, version: int) -> bool: ...


class TagChangeWriter(Protocol):
    def apply(self, changes: list[TagChange]) -> list[TagChange]:
        """Applies each change with its log entry; returns those that took effect (replays do not)."""
        ...

    def apply_batch(self, changes: list[TagChange]) -> list[TagChange]:
        """Unconditional batch writes, for writers that keep their own ledger (the nightly pass)."""
        ...


class MembershipReader(Protocol):
    def of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's memberships (`name`, `since`, `source`, `expires_at`, ...)."""
        ...

    def members(self, tag: str) -> Iterable[str]:
        """The ids of every customer holding `tag`."""
        ...

    def count(self, tag: str) -> int: ...


class EventReader(Protocol):
    """What the rules read besides the event itself."""

    def history(self, customer_id: str, since: datetime, until: datetime) -> list[Event]:
        """The customer's history events with since <= occurred_at <= until."""
        ...

    def aggregates(self, customer_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(profile, shop totals) of the customer, for attribute rules."""
        ...


class MembershipBatches(Protocol):
    """Moves memberships a page at a time (renames and deletes of tags with many members)."""

    def move(self, old: str, new: str, *, limit: int) -> int: ...

    def drop(self, tag: str, *, limit: int) -> int: ...


class PassStore(Protocol):
    """State of the nightly lifecycle pass: pages of profiles, per-shard stats, the run, expiring tags."""

    def profiles(self, shard: int, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]: ...

    def put_stats(self, run_id: str, shard: int, page: int, stats: dict[str, Any]) -> None: ...

    def shard_done(self, run_id: str, shard: int) -> int: ...

    def all_stats(self, run_id: str) -> list[dict[str, Any]]: ...

    def start_run(self, run_id: str, fields: dict[str, Any]) -> None: ...

    def get_run(self, run_id: str) -> dict[str, Any] | None: ...

    def mark_run(self, run_id: str, fields: dict[str, Any]) -> None: ...

    def save_profile(self, customer_id: str, clock_tags: list[str], scores: dict[str, Any] | None) -> None: ...

    def expiring(self, shard: int, until: int, limit: int) -> list[dict[str, Any]]: ...

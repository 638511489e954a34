"""The ports the segments capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engage.customers.profiles import Customer
from engage.tagging.ports import TagCatalogStore


class TagNames(Protocol):
    """Only the tag names a rule may use: the catalog's definitions plus every tag that has members
    (`bought:<yyyy-mm>:<product>` tags are memberships, not catalogued one by one). A read-only view of
    names, not the tag catalog itself: that is tagging's `TagCatalogStore`."""

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


@dataclass(frozen=True)
class SnapshotPorts:
    """What a campaign audience snapshot reads and writes; the wiring builds it."""

    snapshots: SnapshotStore
    segments: SegmentStore
    reader: AudienceReader
    tag_names: TagNames
    catalog: TagCatalogStore  # the launch marks the tags its audience names as used (tag health)

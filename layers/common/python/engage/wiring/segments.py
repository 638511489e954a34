"""Builders of the segments capability's adapters."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.segments import SegmentRepository, SnapshotRepository
from engage.adapters.dynamo.segments_audience import DynamoAudienceReader, TableTagCatalog
from engage.segments.ports import SnapshotPorts
from engage.wiring import aws, tagging


def repository() -> SegmentRepository:
    """Not cached (it never was; it holds nothing but the table, so a new one costs nothing)."""
    return SegmentRepository(aws.table())


@lru_cache
def snapshots() -> SnapshotRepository:
    return SnapshotRepository(aws.table(), aws.retention().days)


@lru_cache
def audience() -> DynamoAudienceReader:
    return DynamoAudienceReader(aws.table())


@lru_cache
def tag_catalog() -> TableTagCatalog:
    """Known tag names for segment rules."""
    return TableTagCatalog(aws.table())


def snapshot_ports() -> SnapshotPorts:
    """What campaign audience snapshots read and write."""
    return SnapshotPorts(
        snapshots=snapshots(),
        segments=repository(),
        reader=audience(),
        tag_names=tag_catalog(),
        catalog=tagging.catalog(),
    )

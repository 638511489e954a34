"""Builds the adapters once per cold start. Handlers call these; tests clear the caches.

Nothing here runs at import time, so moto (tests, local runtime) is in place before any
client is built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3

from engage.adapters.dynamo.audience import DynamoAudienceReader, TableTagCatalog
from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.memberships import MembershipRepository
from engage.adapters.dynamo.segments import SegmentRepository, SnapshotRepository
from engage.adapters.dynamo.table import Table
from engage.adapters.sqs import SqsQueue
from engage.ports import TagCatalog
from engage.settings import QueueSettings, TableSettings


@lru_cache
def table() -> Table:
    name = TableSettings.from_env().table
    return Table(boto3.resource("dynamodb").Table(name))


@lru_cache
def sqs_client() -> Any:
    return boto3.client("sqs")


@lru_cache
def customers() -> CustomerRepository:
    return CustomerRepository(table())


@lru_cache
def memberships() -> MembershipRepository:
    return MembershipRepository(table())


@lru_cache
def send_queue() -> SqsQueue:
    return SqsQueue(sqs_client(), QueueSettings.from_env().send_queue_url)


@lru_cache
def segments() -> SegmentRepository:
    return SegmentRepository(table())


@lru_cache
def snapshots() -> SnapshotRepository:
    return SnapshotRepository(table())


@lru_cache
def audience() -> DynamoAudienceReader:
    return DynamoAudienceReader(table())


@lru_cache
def tag_catalog() -> TagCatalog:
    """Known tag names for segment rules; swap for the tag catalog's adapter when it exists."""
    return TableTagCatalog(table())


def reset() -> None:
    """Forgets every built adapter (tests and the local runtime call this after setting up moto)."""
    for value in list(globals().values()):
        if hasattr(value, "cache_clear"):
            value.cache_clear()
    from engage import settings

    for value in vars(settings).values():
        if hasattr(value, "cache_clear"):
            value.cache_clear()

"""Builds the adapters once per cold start. Handlers call these; tests clear the caches.

Nothing here runs at import time, so moto (tests, local runtime) is in place before any
client is built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3

from engage.adapters.dynamo.alerts import AlertRepository
from engage.adapters.dynamo.counters import CounterRepository
from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.links import LinkRepository
from engage.adapters.dynamo.memberships import MembershipRepository
from engage.adapters.dynamo.table import Table
from engage.adapters.sns import SnsAlerts
from engage.adapters.sqs import SqsQueue
from engage.settings import AlertSettings, LinkSettings, QueueSettings, TableSettings


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
def counters() -> CounterRepository:
    return CounterRepository(table())


@lru_cache
def links() -> LinkRepository:
    return LinkRepository(table(), counters())


@lru_cache
def link_shortener() -> Any:
    """The `LinkShortener` port for the sender (needs ENGAGE_LINK_BASE_URL)."""
    from engage.links import TrackedLinkShortener

    return TrackedLinkShortener(links(), LinkSettings.from_env().link_base_url)


@lru_cache
def alert_store() -> AlertRepository:
    return AlertRepository(table())


@lru_cache
def alert_topic() -> SnsAlerts:
    return SnsAlerts(boto3.client("sns"), AlertSettings.from_env().alerts_topic_arn)


def reset() -> None:
    """Forgets every built adapter (tests and the local runtime call this after setting up moto)."""
    for value in list(globals().values()):
        if hasattr(value, "cache_clear"):
            value.cache_clear()
    from engage import settings

    for value in vars(settings).values():
        if hasattr(value, "cache_clear"):
            value.cache_clear()

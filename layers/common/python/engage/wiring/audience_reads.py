"""Builders of the audience capability's read side: customer search and the customer timeline."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.audience_search import DynamoCustomerDirectory, SearchIndexRepair
from engage.adapters.dynamo.audience_timeline import DynamoHistory
from engage.audience.search import SearchPorts
from engage.wiring import aws, segments


@lru_cache
def directory() -> DynamoCustomerDirectory:
    return DynamoCustomerDirectory(aws.table())


@lru_cache
def history() -> DynamoHistory:
    return DynamoHistory(aws.table())


@lru_cache
def index_repair() -> SearchIndexRepair:
    return SearchIndexRepair(aws.table())


def search_ports() -> SearchPorts:
    return SearchPorts(
        directory=directory(),
        segments=segments.repository(),
        reader=segments.audience(),
        catalog=segments.tag_catalog(),
    )

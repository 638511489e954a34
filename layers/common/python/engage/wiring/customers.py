"""Builders of the customers capability's adapters."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.customers import CustomerRepository
from engage.wiring import aws


@lru_cache
def repository() -> CustomerRepository:
    return CustomerRepository(aws.table())

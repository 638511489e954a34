"""Builders of the customers capability's adapters."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.customers import CustomerRepository
from engage.core.settings import PhoneSettings
from engage.wiring import aws


@lru_cache
def repository() -> CustomerRepository:
    return CustomerRepository(aws.table())


@lru_cache
def default_country() -> str | None:
    """Where a national-format phone number is read (ENGAGE_DEFAULT_COUNTRY), None when unset."""
    return PhoneSettings.from_env().default_country or None

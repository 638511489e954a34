"""Builders of the customers capability's adapters."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.customers import CustomerRepository
from engage.core.settings import PhoneSettings
from engage.wiring import aws, tuning


@lru_cache
def repository() -> CustomerRepository:
    return CustomerRepository(aws.table())


@lru_cache
def deployment_country() -> str | None:
    """ENGAGE_DEFAULT_COUNTRY, None when unset."""
    return PhoneSettings.from_env().default_country or None


def default_country() -> str | None:
    """Where a national-format phone number is read: the `customers.default_country` setting
    (/v1/settings) when set, else the deployment's ENGAGE_DEFAULT_COUNTRY; None refuses such numbers."""
    return tuning.settings().default_country() or deployment_country()

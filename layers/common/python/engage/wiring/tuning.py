"""Builders of the tuning capability: the settings areas and their log."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.tuning_settings import SettingsRepository
from engage.wiring import aws


@lru_cache
def settings() -> SettingsRepository:
    return SettingsRepository(aws.table())

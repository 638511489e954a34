"""Builders of the journeys capability's adapters."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.conversions_api import ConversionsApiClient
from engage.adapters.dynamo.journeys import (
    ConversionOutbox,
    JourneyBase,
    JourneyHistory,
    JourneyProfiles,
    JourneyRepository,
    JourneyTagWriter,
    RunRepository,
)
from engage.core.settings import ConversionsSettings, ConversionsToken
from engage.journeys.conversions import ConversionsApi
from engage.journeys.ports import JourneyPorts
from engage.journeys.service import SavedSegmentMembers
from engage.rewards.coupons import PoolIssuer
from engage.wiring import aws, customers, delivery, rewards, segments, tagging


@lru_cache
def ports() -> JourneyPorts:
    table = aws.table()
    return JourneyPorts(
        journeys=JourneyRepository(table),
        runs=RunRepository(table),
        profiles=JourneyProfiles(table, customers.repository()),
        tags=JourneyTagWriter(tagging.writer()),
        coupons=PoolIssuer(rewards.coupons()),  # no such pool (or none left): the step's static code
        history=JourneyHistory(table),
        conversions=conversions_outbox(),
        queue=delivery.send_queue(),
        config=delivery.config(),
    )


@lru_cache
def conversions_outbox() -> ConversionOutbox:
    return ConversionOutbox(aws.table())


@lru_cache
def conversions_api() -> ConversionsApi | None:
    """Meta's Conversions API; None (nothing posted, the token not read) until a dataset id is set."""
    settings = ConversionsSettings.from_env()
    if not settings.dataset_id:
        return None
    return ConversionsApiClient(settings, ConversionsToken.from_env().access_token)


@lru_cache
def base() -> JourneyBase:
    return JourneyBase(tagging.passes(), tagging.pass_queue())


def segment_members() -> SavedSegmentMembers:
    return SavedSegmentMembers(segments.repository(), segments.audience(), segments.tag_catalog())

"""Builders of the metrics capability: counters, tracked links and alerts."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.metrics_alerts import AlertRepository
from engage.adapters.dynamo.metrics_counters import CounterRepository
from engage.adapters.dynamo.metrics_links import LinkRepository
from engage.adapters.sns import SnsAlerts
from engage.metrics.links import TrackedLinkShortener
from engage.wiring import aws


@lru_cache
def counters() -> CounterRepository:
    """Cached: its memo of the (day, campaign) pairs already in the activity index lives as long as
    the container, so the day's activity item is written once per container, not per batch."""
    return CounterRepository(aws.table())


@lru_cache
def links() -> LinkRepository:
    return LinkRepository(aws.table(), counters())


@lru_cache
def link_shortener() -> TrackedLinkShortener:
    """The sender's `LinkShortener` (needs ENGAGE_LINK_BASE_URL)."""
    return TrackedLinkShortener(links(), aws.link_settings().link_base_url)


@lru_cache
def alert_store() -> AlertRepository:
    return AlertRepository(aws.table())


@lru_cache
def alert_topic() -> SnsAlerts:
    return SnsAlerts(aws.sns_client(), aws.alert_settings().alerts_topic_arn)

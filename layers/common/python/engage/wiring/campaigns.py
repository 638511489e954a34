"""Builders of the campaigns capability: its stores and the `FlowPorts` and `DispatchPorts` bundles."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.campaigns import CampaignRepository, TierLedger
from engage.adapters.dynamo.campaigns_templates import TemplateRepository
from engage.adapters.sqs import SqsQueue
from engage.campaigns.dispatch import DispatchPorts
from engage.campaigns.service import FlowPorts
from engage.campaigns.template_updates import TemplateUpdates
from engage.segments.snapshots import SegmentAudience
from engage.wiring import aws, delivery, metrics, segments


@lru_cache
def repository() -> CampaignRepository:
    return CampaignRepository(aws.table())


@lru_cache
def templates() -> TemplateRepository:
    return TemplateRepository(aws.table())


@lru_cache
def tier_ledger() -> TierLedger:
    return TierLedger(aws.table())


@lru_cache
def audience() -> SegmentAudience:
    """Campaign audiences: snapshots of a segment at launch, paged by the dispatcher."""
    return SegmentAudience(segments.snapshot_ports())


@lru_cache
def dispatch_queue() -> SqsQueue:
    return SqsQueue(aws.sqs_client(), aws.queue_settings().dispatch_queue_url)


@lru_cache
def template_updates() -> TemplateUpdates:
    """What the webhook does with template notifications (category changes, pauses)."""
    return TemplateUpdates(campaigns=repository(), alerts=metrics.alert_topic(), templates=templates())


def flow_ports() -> FlowPorts:
    """Not cached (as before): a new bundle over the cached adapters."""
    return FlowPorts(
        campaigns=repository(),
        sends=delivery.sends(),
        send_queue=delivery.send_queue(),
        dispatch_queue=dispatch_queue(),
        config=delivery.config(),
        templates=templates(),
        audience=audience(),
        audience_writer=audience(),
        audience_check=audience(),
    )


def dispatch_ports() -> DispatchPorts:
    """Not cached (as before): a new bundle over the cached adapters."""
    return DispatchPorts(
        campaigns=repository(),
        audience=audience(),
        send_queue=delivery.send_queue(),
        dispatch_queue=dispatch_queue(),
        tier=tier_ledger(),
        config=delivery.config(),
    )

"""Builds the adapters once per cold start. Handlers call these; tests clear the caches.

Nothing here runs at import time, so moto (tests, local runtime) is in place before any
client is built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3

from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.memberships import MembershipRepository
from engage.adapters.dynamo.table import Table
from engage.adapters.sqs import SqsQueue
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


def reset() -> None:
    """Forgets every built adapter (tests and the local runtime call this after setting up moto)."""
    for value in list(globals().values()):
        if hasattr(value, "cache_clear"):
            value.cache_clear()
    from engage import settings

    for value in vars(settings).values():
        if hasattr(value, "cache_clear"):
            value.cache_clear()


# ---------------------------------------------------------------- sending (campaigns, dispatcher, sender)
@lru_cache
def sends() -> Any:
    from engage.adapters.dynamo.sends import SendRepository

    return SendRepository(table())


@lru_cache
def campaigns() -> Any:
    from engage.adapters.dynamo.campaigns import CampaignRepository

    return CampaignRepository(table())


@lru_cache
def sending_config() -> Any:
    from engage.adapters.dynamo.campaigns import ConfigRepository

    return ConfigRepository(table())


@lru_cache
def tier_ledger() -> Any:
    from engage.adapters.dynamo.campaigns import TierLedger

    return TierLedger(table())


@lru_cache
def templates() -> Any:
    from engage.adapters.dynamo.templates import TemplateRepository

    return TemplateRepository(table())


@lru_cache
def audience() -> Any:
    """The tag-only stand-in; the segments area's snapshot evaluator replaces it at merge."""
    from engage.adapters.dynamo.audience import TagAudience

    return TagAudience(table(), memberships())


@lru_cache
def dispatch_queue() -> SqsQueue:
    return SqsQueue(sqs_client(), QueueSettings.from_env().dispatch_queue_url)


@lru_cache
def send_retry_delay() -> Any:
    from engage.adapters.sqs_retry import SqsRetryDelay

    return SqsRetryDelay(sqs_client(), QueueSettings.from_env().send_queue_url)


@lru_cache
def alerts() -> Any:
    from engage.adapters.sns import SnsAlerts

    return SnsAlerts(boto3.client("sns"), QueueSettings.from_env().alerts_topic_arn)


@lru_cache
def whatsapp() -> Any:
    from engage.adapters.whatsapp import WhatsAppClient
    from engage.settings import WhatsAppSettings

    return WhatsAppClient(WhatsAppSettings.from_env())


@lru_cache
def shortener() -> Any:
    """Stand-in until the metrics area's /r/{code} links are merged."""
    from engage.personalise import DefaultShortener

    return DefaultShortener()


@lru_cache
def sender() -> Any:
    import time

    from engage.adapters.dynamo.buckets import DynamoBuckets
    from engage.adapters.dynamo.profiles import ProfileReader
    from engage.sending import Sender, SenderPorts
    from engage.throttle import Throttle
    from engage.timeutil import utcnow

    config = sending_config().sending().throttle
    throttle = Throttle(
        DynamoBuckets(table()),
        clock_us=lambda: int(time.time() * 1_000_000),
        sleep=time.sleep,
        block=config.block,
        lookahead_us=int(config.lookahead_seconds * 1_000_000),
        grace_us=int(config.stale_grace_seconds * 1_000_000),
        max_wait_us=int(config.max_wait_seconds * 1_000_000),
    )
    ports = SenderPorts(
        customers=customers(),
        sends=sends(),
        campaigns=campaigns(),
        whatsapp=whatsapp(),
        throttle=throttle,
        queue=send_queue(),
        alerts=alerts(),
        config=sending_config(),
        shortener=shortener(),
        phone_number_id=whatsapp().phone_number_id,
        profiles=ProfileReader(table()),
    )
    return Sender(ports, clock=utcnow)


@lru_cache
def audience_writer() -> Any:
    """Writes CAMP#<id>/AUD#<customer> items for an explicit list (follow-ups)."""
    from engage.adapters.dynamo.audience import TagAudience

    return TagAudience(table(), memberships())


def flow_ports() -> Any:
    from engage.campaign_flow import FlowPorts

    return FlowPorts(
        campaigns=campaigns(),
        sends=sends(),
        send_queue=send_queue(),
        dispatch_queue=dispatch_queue(),
        config=sending_config(),
        templates=templates(),
        audience=audience(),
        audience_writer=audience_writer(),
    )


def dispatch_ports() -> Any:
    from engage.dispatch import DispatchPorts

    return DispatchPorts(
        campaigns=campaigns(),
        audience=audience(),
        send_queue=send_queue(),
        dispatch_queue=dispatch_queue(),
        tier=tier_ledger(),
        config=sending_config(),
    )

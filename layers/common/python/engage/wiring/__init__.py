"""Builds the adapters once per cold start. Handlers call these; tests clear the caches.

Nothing here runs at import time, so moto (tests, local runtime) is in place before any
client is built.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import boto3

from engage.adapters.dynamo.alerts import AlertRepository
from engage.adapters.dynamo.audience import DynamoAudienceReader, TableTagCatalog
from engage.adapters.dynamo.catalog import CatalogRepository, TagLog, TagWriter
from engage.adapters.dynamo.counters import CounterRepository
from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.lifecycle import PassRepository
from engage.adapters.dynamo.links import LinkRepository
from engage.adapters.dynamo.memberships import MembershipRepository
from engage.adapters.dynamo.messages import MessageRepository
from engage.adapters.dynamo.rules import RuleRepository
from engage.adapters.dynamo.segments import SegmentRepository, SnapshotRepository
from engage.adapters.dynamo.shop_events import ShopEventRepository
from engage.adapters.dynamo.table import Table
from engage.adapters.dynamo.tagging import MembershipBatches, TaggingReads
from engage.adapters.sns import SnsAlerts
from engage.adapters.sqs import SqsQueue
from engage.core.settings import AlertSettings, ApiSettings, LinkSettings, QueueSettings, TableSettings, WebhookSettings
from engage.segments.ports import SnapshotPorts, TagNames
from engage.tagging.service import Tagging


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
def catalog() -> CatalogRepository:
    return CatalogRepository(table())


@lru_cache
def rules() -> RuleRepository:
    return RuleRepository(table())


@lru_cache
def tag_writer() -> TagWriter:
    return TagWriter(table())


@lru_cache
def tag_log() -> TagLog:
    return TagLog(table())


@lru_cache
def tagging_reads() -> TaggingReads:
    return TaggingReads(table())


@lru_cache
def membership_batches() -> MembershipBatches:
    return MembershipBatches(table())


@lru_cache
def pass_queue() -> SqsQueue:
    return SqsQueue(sqs_client(), QueueSettings.from_env().pass_queue_url)


@lru_cache
def shop_events() -> ShopEventRepository:
    return ShopEventRepository(table())


@lru_cache
def events_secrets() -> list[str]:
    """EVENTS_WEBHOOK_SECRET (resolved from SSM in AWS), read once per cold start."""
    return [ApiSettings.from_env().events_webhook_secret]


@lru_cache
def passes() -> PassRepository:
    return PassRepository(table())


@lru_cache
def tagging() -> Tagging:
    return Tagging(
        catalog=catalog(),
        rules=rules(),
        writer=tag_writer(),
        memberships=memberships(),
        reads=tagging_reads(),
        batches=membership_batches(),
        queue=pass_queue(),
    )


@lru_cache
def send_queue() -> SqsQueue:
    return SqsQueue(sqs_client(), QueueSettings.from_env().send_queue_url)


@lru_cache
def messages() -> MessageRepository:
    return MessageRepository(table())


@lru_cache
def webhook_settings() -> WebhookSettings:
    return WebhookSettings.from_env()


@lru_cache
def webhook_pool() -> ThreadPoolExecutor:
    """Threads for the independent writes of one notification (boto3 clients are thread safe;
    at most 10, the default connection pool of a client)."""
    return ThreadPoolExecutor(max_workers=webhook_settings().workers, thread_name_prefix="webhook")


def counters() -> CounterRepository:
    return CounterRepository(table())


@lru_cache
def links() -> LinkRepository:
    return LinkRepository(table(), counters())


@lru_cache
def link_shortener() -> Any:
    """The `LinkShortener` port for the sender (needs ENGAGE_LINK_BASE_URL)."""
    from engage.metrics.links import TrackedLinkShortener

    return TrackedLinkShortener(links(), LinkSettings.from_env().link_base_url)


@lru_cache
def alert_store() -> AlertRepository:
    return AlertRepository(table())


@lru_cache
def alert_topic() -> SnsAlerts:
    return SnsAlerts(boto3.client("sns"), AlertSettings.from_env().alerts_topic_arn)


def segments() -> SegmentRepository:
    return SegmentRepository(table())


@lru_cache
def snapshots() -> SnapshotRepository:
    return SnapshotRepository(table())


@lru_cache
def audience() -> DynamoAudienceReader:
    return DynamoAudienceReader(table())


@lru_cache
def tag_catalog() -> TagNames:
    """Known tag names for segment rules; swap for the tag catalog's adapter when it exists."""
    return TableTagCatalog(table())


def reset() -> None:
    """Forgets every built adapter (tests and the local runtime call this after setting up moto)."""
    for value in list(globals().values()):
        if hasattr(value, "cache_clear"):
            value.cache_clear()
    from engage.core import settings

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
def campaign_audience() -> Any:
    """Campaign audiences: snapshots of a segment at launch, paged by the dispatcher."""
    from engage.segments.snapshots import SegmentAudience

    return SegmentAudience(snapshot_ports())


def snapshot_ports() -> SnapshotPorts:
    """What campaign audience snapshots read and write."""
    return SnapshotPorts(
        snapshots=snapshots(), segments=segments(), reader=audience(), tag_names=tag_catalog(), catalog=catalog()
    )


@lru_cache
def dispatch_queue() -> SqsQueue:
    return SqsQueue(sqs_client(), QueueSettings.from_env().dispatch_queue_url)


@lru_cache
def send_retry_delay() -> Any:
    from engage.adapters.sqs_retry import SqsRetryDelay

    return SqsRetryDelay(sqs_client(), QueueSettings.from_env().send_queue_url)


@lru_cache
def whatsapp() -> Any:
    from engage.adapters.whatsapp import WhatsAppClient
    from engage.core.settings import WhatsAppSettings

    return WhatsAppClient(WhatsAppSettings.from_env())


@lru_cache
def sender(environment: str = "") -> Any:
    """The sender of one execution environment: its caches and booked throttle slots are its own
    (the local runtime runs several environments in one process and tells them apart by name)."""
    import time

    from engage.adapters.dynamo.buckets import DynamoBuckets
    from engage.adapters.dynamo.profiles import ProfileReader
    from engage.core.time import utcnow
    from engage.delivery.sender import Sender, SenderPorts
    from engage.delivery.throttle import Throttle

    throttle = Throttle.configured(
        DynamoBuckets(table()),
        sending_config().sending().throttle,
        clock_us=lambda: int(time.time() * 1_000_000),
        sleep=time.sleep,
    )
    ports = SenderPorts(
        customers=customers(),
        sends=sends(),
        campaigns=campaigns(),
        whatsapp=whatsapp(),
        throttle=throttle,
        queue=send_queue(),
        alerts=alert_topic(),
        config=sending_config(),
        shortener=link_shortener(),
        phone_number_id=whatsapp().phone_number_id,
        profiles=ProfileReader(table()),
    )
    return Sender(ports, clock=utcnow)


def flow_ports() -> Any:
    from engage.campaigns.service import FlowPorts

    return FlowPorts(
        campaigns=campaigns(),
        sends=sends(),
        send_queue=send_queue(),
        dispatch_queue=dispatch_queue(),
        config=sending_config(),
        templates=templates(),
        audience=campaign_audience(),
        audience_writer=campaign_audience(),
    )


def dispatch_ports() -> Any:
    from engage.campaigns.dispatch import DispatchPorts

    return DispatchPorts(
        campaigns=campaigns(),
        audience=campaign_audience(),
        send_queue=send_queue(),
        dispatch_queue=dispatch_queue(),
        tier=tier_ledger(),
        config=sending_config(),
    )

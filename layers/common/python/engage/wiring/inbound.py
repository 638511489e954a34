"""Builders of the inbound capability: the webhook's adapters and its `InboundPorts`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from engage.adapters.dynamo.customers_prefetch import PrefetchingCustomers
from engage.adapters.dynamo.inbound_messages import MessageRepository
from engage.adapters.dynamo.inbound_shop_events import ShopEventRepository
from engage.adapters.transient import is_transient
from engage.inbound.receive import InboundPorts
from engage.wiring import aws, campaigns, customers, delivery, groups


@lru_cache
def messages() -> MessageRepository:
    return MessageRepository(aws.table())


@lru_cache
def shop_events() -> ShopEventRepository:
    return ShopEventRepository(aws.table())


@lru_cache
def events_secrets() -> list[str]:
    """EVENTS_WEBHOOK_SECRET (resolved from SSM in AWS), read once per cold start."""
    return [aws.api_settings().events_webhook_secret]


@lru_cache
def webhook_pool() -> ThreadPoolExecutor:
    """Threads for the independent writes of one notification (boto3 clients are thread safe;
    at most 10, the default connection pool of a client)."""
    return ThreadPoolExecutor(max_workers=aws.webhook_settings().workers, thread_name_prefix="webhook")


def ports() -> InboundPorts:
    """Per notification, not cached: its customer lookups are prefetched in two batch reads."""
    # Imported here: the sender's and campaigns' builders load their whole capabilities, which a
    # status update never needs; the webhook's cold start stays small (docs/webhook.md).

    return InboundPorts(
        customers=PrefetchingCustomers(customers.repository()),
        store=messages(),
        queue=delivery.send_queue(),
        pool=webhook_pool(),
        template_updates=campaigns.template_updates(),
        group_updates=groups.webhooks(),
        transient=is_transient,
        phone_number_ids=aws.webhook_settings().phone_number_ids,
    )

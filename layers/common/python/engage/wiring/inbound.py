"""Builders of the inbound capability: the webhook's adapters and its `InboundPorts`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engage.adapters.dynamo.customers_prefetch import PrefetchingCustomers
from engage.adapters.dynamo.inbound_messages import MessageRepository
from engage.adapters.transient import is_transient
from engage.inbound.receive import InboundPorts
from engage.wiring import aws, customers

if TYPE_CHECKING:
    from engage.adapters.dynamo.inbound_shop_events import ShopEventRepository


class OnFirstUse:
    """A port built when first used. A status POST never queues a reply nor touches templates or
    groups: their builders (the sender's, the campaigns', the groups' capabilities with the WhatsApp
    client and httpx) stay out of the webhook's cold start until a notification needs them."""

    def __init__(self, build: Callable[[], Any]):
        self._build = build  # a cached builder: `engage.wiring.reset()` makes it build anew

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)


def _send_queue() -> Any:
    from engage.wiring import delivery

    return delivery.send_queue()


def _template_updates() -> Any:
    from engage.wiring import campaigns

    return campaigns.template_updates()


def _group_updates() -> Any:
    from engage.wiring import groups

    return groups.webhooks()


@lru_cache
def messages() -> MessageRepository:
    return MessageRepository(aws.table())


@lru_cache
def shop_events() -> ShopEventRepository:
    from engage.adapters.dynamo.inbound_shop_events import ShopEventRepository

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
    return InboundPorts(
        customers=PrefetchingCustomers(customers.repository()),
        store=messages(),
        queue=_LATER["queue"],
        pool=webhook_pool(),
        template_updates=_LATER["template_updates"],
        group_updates=_LATER["group_updates"],
        transient=is_transient,
        phone_number_ids=aws.webhook_settings().phone_number_ids,
    )


_LATER = {
    "queue": OnFirstUse(_send_queue),
    "template_updates": OnFirstUse(_template_updates),
    "group_updates": OnFirstUse(_group_updates),
}

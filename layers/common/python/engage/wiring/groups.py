"""Builders of the groups capability: its repository, its ports, the webhook's handler and, for the
sender only, the Groups API client and the worker's ports."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.groups import GroupsRepository, GroupTags
from engage.adapters.whatsapp_groups import WhatsAppGroupsClient
from engage.delivery.sender import Sender
from engage.groups.coupons import StaticCouponIssuer
from engage.groups.ports import GroupsPorts, WorkerPorts
from engage.groups.service import GroupWebhooks
from engage.groups.worker import GroupLinks, NumberPacer
from engage.rewards.coupons import PoolIssuer
from engage.wiring import aws, customers, delivery, inbound, metrics, rewards, tagging


@lru_cache
def repository() -> GroupsRepository:
    return GroupsRepository(aws.table())


@lru_cache
def ports() -> GroupsPorts:
    store = repository()
    return GroupsPorts(
        store=store,
        customers=customers.repository(),
        queue=delivery.send_queue(),
        # the join incentive: a unique code from the circle's pool, else the static join code
        coupons=PoolIssuer(
            rewards.coupons(), fallback=StaticCouponIssuer(default_from=lambda: store.config().join_coupon_code)
        ),
        orders=store,
        tags=GroupTags(tagging.writer()),
        history=inbound.messages(),
        alerts=metrics.alert_topic(),
    )


@lru_cache
def webhooks() -> GroupWebhooks:
    """The webhook's `group_updates` port."""
    return GroupWebhooks(ports())


def worker_ports(sender: Sender) -> WorkerPorts:
    """The sender's: Groups API calls with the sender's own throttle (the number's bucket)."""
    config = delivery.config().sending()
    number_rate = sender.rates(None, config)[0]
    return WorkerPorts(
        groups=ports(),
        api=api(),
        pacer=NumberPacer(sender.ports.throttle, number_rate),
        links=GroupLinks(metrics.links(), aws.link_settings().link_base_url),
    )


@lru_cache
def api() -> WhatsAppGroupsClient:
    return WhatsAppGroupsClient(aws.whatsapp_settings())

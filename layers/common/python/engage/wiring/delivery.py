"""Builders of the delivery capability: the send log, its queue and config, WhatsApp, the sender."""

from __future__ import annotations

import time
from functools import lru_cache

from engage.adapters.dynamo.campaigns import ConfigRepository
from engage.adapters.dynamo.delivery_buckets import DynamoBuckets
from engage.adapters.dynamo.delivery_profiles import ProfileReader
from engage.adapters.dynamo.delivery_sends import SendRepository
from engage.adapters.dynamo.rewards_coupons import CouponRepository
from engage.adapters.dynamo.rewards_referrals import ReferralRepository
from engage.adapters.sqs import SqsQueue
from engage.adapters.sqs_retry import SqsRetryDelay
from engage.adapters.whatsapp import WhatsAppClient
from engage.core.time import utcnow
from engage.delivery.sender import Sender, SenderPorts
from engage.delivery.throttle import Throttle
from engage.rewards.coupons import PoolIssuer
from engage.rewards.referrals import ReferralLinks
from engage.wiring import aws, campaigns, customers, metrics


@lru_cache
def sends() -> SendRepository:
    return SendRepository(aws.table(), aws.retention().days)


@lru_cache
def config() -> ConfigRepository:
    """The sending config (throttle, quiet hours, frequency caps), stored in the table."""
    return ConfigRepository(aws.table())


@lru_cache
def send_queue() -> SqsQueue:
    return SqsQueue(aws.sqs_client(), aws.queue_settings().send_queue_url)


@lru_cache
def retry_delay() -> SqsRetryDelay:
    return SqsRetryDelay(aws.sqs_client(), aws.queue_settings().send_queue_url)


@lru_cache
def whatsapp() -> WhatsAppClient:
    return WhatsAppClient(aws.whatsapp_settings())


@lru_cache
def sender(environment: str = "") -> Sender:
    """The sender of one execution environment: its caches and booked throttle slots are its own
    (the local runtime runs several environments in one process and tells them apart by name)."""
    throttle = Throttle.configured(
        DynamoBuckets(aws.table()),
        config().sending().throttle,
        clock_us=lambda: int(time.time() * 1_000_000),
        sleep=time.sleep,
    )
    ports = SenderPorts(
        customers=customers.repository(),
        sends=sends(),
        campaigns=campaigns.repository(),
        whatsapp=whatsapp(),
        throttle=throttle,
        queue=send_queue(),
        alerts=metrics.alert_topic(),
        config=config(),
        shortener=metrics.link_shortener(),
        phone_number_id=whatsapp().phone_number_id,
        profiles=ProfileReader(aws.table()),
        coupons=PoolIssuer(CouponRepository(aws.table())),
        referrals=ReferralLinks(ReferralRepository(aws.table())),
    )
    return Sender(ports, clock=utcnow)

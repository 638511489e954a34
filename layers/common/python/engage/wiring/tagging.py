"""Builders of the tagging capability: its adapters and the `Tagging` bundle of ports."""

from __future__ import annotations

from functools import lru_cache

from engage.adapters.dynamo.tagging_catalog import CatalogRepository, TagLog, TagWriter
from engage.adapters.dynamo.tagging_lifecycle import PassRepository
from engage.adapters.dynamo.tagging_memberships import MembershipRepository
from engage.adapters.dynamo.tagging_reads import MembershipBatches, TaggingReads
from engage.adapters.dynamo.tagging_rules import RuleRepository
from engage.adapters.sqs import SqsQueue
from engage.tagging.service import Tagging
from engage.wiring import aws


@lru_cache
def memberships() -> MembershipRepository:
    return MembershipRepository(aws.table())


@lru_cache
def catalog() -> CatalogRepository:
    return CatalogRepository(aws.table())


@lru_cache
def rules() -> RuleRepository:
    return RuleRepository(aws.table())


@lru_cache
def writer() -> TagWriter:
    return TagWriter(aws.table())


@lru_cache
def log() -> TagLog:
    return TagLog(aws.table())


@lru_cache
def reads() -> TaggingReads:
    return TaggingReads(aws.table())


@lru_cache
def batches() -> MembershipBatches:
    return MembershipBatches(aws.table())


@lru_cache
def passes() -> PassRepository:
    return PassRepository(aws.table())


@lru_cache
def pass_queue() -> SqsQueue:
    return SqsQueue(aws.sqs_client(), aws.queue_settings().pass_queue_url)


@lru_cache
def ports() -> Tagging:
    return Tagging(
        catalog=catalog(),
        rules=rules(),
        writer=writer(),
        memberships=memberships(),
        reads=reads(),
        batches=batches(),
        queue=pass_queue(),
    )

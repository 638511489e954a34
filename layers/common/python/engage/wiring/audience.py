"""Builders of the audience capability's adapters: imports, exports, customer search and the timeline."""

from __future__ import annotations

from functools import lru_cache

import boto3
from botocore.config import Config

from engage.adapters.dynamo.audience_imports import (
    ExportRepository,
    ImportCustomerWriter,
    ImportRepository,
    ImportTagNames,
)
from engage.adapters.dynamo.audience_search import DynamoCustomerDirectory, SearchIndexRepair
from engage.adapters.dynamo.audience_timeline import DynamoHistory
from engage.adapters.s3 import S3Files
from engage.adapters.sqs import ChunkFifoQueue
from engage.audience.exports import ExportPorts
from engage.audience.imports import ImportPorts
from engage.audience.search import SearchPorts
from engage.core.settings import ImportSettings
from engage.wiring import aws, customers, segments, tagging


@lru_cache
def settings() -> ImportSettings:
    return ImportSettings.from_env()


@lru_cache
def files() -> S3Files:
    endpoint = settings().s3_public_endpoint
    presigner = None
    if endpoint:  # the local runtime: links must reach it, path-style
        presigner = boto3.client(
            "s3", endpoint_url=endpoint, config=Config(signature_version="s3v4", s3={"addressing_style": "path"})
        )
    return S3Files(
        boto3.client("s3", config=Config(signature_version="s3v4")), settings().imports_bucket, presigner=presigner
    )


@lru_cache
def imports() -> ImportRepository:
    return ImportRepository(aws.table())


@lru_cache
def exports() -> ExportRepository:
    return ExportRepository(aws.table())


@lru_cache
def import_customers() -> ImportCustomerWriter:
    return ImportCustomerWriter(aws.table(), customers.repository())


@lru_cache
def chunk_queue() -> ChunkFifoQueue:
    return ChunkFifoQueue(aws.sqs_client(), settings().import_queue_url)


@lru_cache
def import_tag_names() -> ImportTagNames:
    return ImportTagNames(aws.table())


def import_ports() -> ImportPorts:
    return ImportPorts(
        imports=imports(),
        files=files(),
        customers=import_customers(),
        queue=chunk_queue(),
        tag_names=import_tag_names(),
        tag_writer=tagging.writer(),
        default_country=customers.default_country(),
    )


def export_ports() -> ExportPorts:
    return ExportPorts(
        exports=exports(),
        files=files(),
        segments=segments.repository(),
        reader=segments.audience(),
        tag_names=segments.tag_catalog(),
        queue=tagging.pass_queue(),
    )


# ---------------------------------------------------------------- customer search and timeline
@lru_cache
def directory() -> DynamoCustomerDirectory:
    return DynamoCustomerDirectory(aws.table())


@lru_cache
def history() -> DynamoHistory:
    return DynamoHistory(aws.table())


@lru_cache
def index_repair() -> SearchIndexRepair:
    return SearchIndexRepair(aws.table())


def search_ports() -> SearchPorts:
    return SearchPorts(
        directory=directory(),
        segments=segments.repository(),
        reader=segments.audience(),
        catalog=segments.tag_catalog(),
    )

"""The AWS side shared by every capability: the one table, the boto3 clients and the settings,
each built on first use and kept for the cold start (`engage.wiring.reset()` forgets them)."""

from __future__ import annotations

from functools import lru_cache

import boto3
from botocore.client import BaseClient

from engage.adapters.dynamo.table import SDK_CONFIG, Table
from engage.core.settings import (
    AlertSettings,
    ApiSettings,
    CursorSettings,
    LinkSettings,
    QueueSettings,
    RetentionSettings,
    TableSettings,
    WebhookSettings,
    WhatsAppSettings,
)


@lru_cache
def table_settings() -> TableSettings:
    return TableSettings.from_env()


@lru_cache
def queue_settings() -> QueueSettings:
    return QueueSettings.from_env()


@lru_cache
def api_settings() -> ApiSettings:
    return ApiSettings.from_env()


@lru_cache
def cursor_settings() -> CursorSettings:
    return CursorSettings.from_env()


@lru_cache
def alert_settings() -> AlertSettings:
    return AlertSettings.from_env()


@lru_cache
def retention() -> RetentionSettings:
    return RetentionSettings.from_env()


@lru_cache
def link_settings() -> LinkSettings:
    return LinkSettings.from_env()


@lru_cache
def webhook_settings() -> WebhookSettings:
    return WebhookSettings.from_env()


@lru_cache
def whatsapp_settings() -> WhatsAppSettings:
    return WhatsAppSettings.from_env()


@lru_cache
def table() -> Table:
    return Table(boto3.resource("dynamodb", config=SDK_CONFIG).Table(table_settings().table))


@lru_cache
def sqs_client() -> BaseClient:
    return boto3.client("sqs")


@lru_cache
def sns_client() -> BaseClient:
    return boto3.client("sns")

"""Typed settings read once from the environment, a slice per function.

A variable whose value starts with `ssm:` is a reference: the value is read from SSM Parameter
Store (decrypted) through Powertools parameters at cold start, so the template never carries a
secret in clear. Locally the runtime sets plain values under the same names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SettingsError(RuntimeError):
    """A function cannot start: the message names the variable(s)."""


def resolve_reference(raw: str) -> str:
    if raw.startswith("ssm:"):
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(raw.removeprefix("ssm:"), decrypt=True, max_age=300))
    return raw


class EnvSettings(BaseModel):
    """Fields declare their environment variable as the alias."""

    # Built when first read: a function reads two or three of these classes.
    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        missing: list[str] = []
        for name, field in cls.model_fields.items():
            var = field.alias or name
            raw = env.get(var, "")
            if raw == "":
                if field.is_required():
                    missing.append(var)
                continue
            values[var] = resolve_reference(raw)
        if missing:
            raise SettingsError(f"{cls.__name__}: missing environment variable(s): {', '.join(missing)}")
        return cls.model_validate(values)


class TableSettings(EnvSettings):
    table: str = Field(alias="ENGAGE_TABLE")


class RetentionSettings(EnvSettings):
    """How long per-message items are kept (docs/data-model.md "Retention"): send items, wamid
    pointers and campaign audience snapshots expire this many days after they are written.
    Counters, reports and customer history keep what reports need and do not expire."""

    days: int = Field(default=180, ge=35, alias="ENGAGE_RETENTION_DAYS")


class WhatsAppSettings(EnvSettings):
    access_token: str = Field(alias="WHATSAPP_ACCESS_TOKEN")
    phone_number_id: str = Field(alias="WHATSAPP_PHONE_NUMBER_ID")
    api_base: str = Field(default="https://graph.facebook.com/v25.0", alias="WHATSAPP_API_BASE")


class ConversionsSettings(EnvSettings):
    """Meta's Conversions API for business messaging (goals reached after a click-to-WhatsApp ad).
    Without a dataset id the outbox keeps its events and nothing is posted (and its token, an SSM
    parameter, is not read: see ConversionsToken)."""

    dataset_id: str = Field(default="", alias="CONVERSIONS_DATASET_ID")
    business_account_id: str = Field(default="", alias="WHATSAPP_BUSINESS_ACCOUNT_ID")
    api_base: str = Field(default="https://graph.facebook.com/v25.0", alias="WHATSAPP_API_BASE")


class ConversionsToken(EnvSettings):
    access_token: str = Field(alias="CONVERSIONS_ACCESS_TOKEN")


class WebhookSettings(TableSettings):
    app_secret: str = Field(alias="WHATSAPP_APP_SECRET")
    # Accepted as well while the app secret is being rotated.
    app_secret_previous: str = Field(default="", alias="WHATSAPP_APP_SECRET_PREVIOUS")
    verify_token: str = Field(alias="WHATSAPP_VERIFY_TOKEN")
    workers: int = Field(default=8, ge=1, le=10, alias="ENGAGE_WEBHOOK_WORKERS")  # parallel writes per POST
    # Notifications are processed only for this deployment's business number(s); others are kept.
    phone_number_id: str = Field(alias="WHATSAPP_PHONE_NUMBER_ID")
    # More numbers of this deployment (comma-separated), e.g. a second number of the same shop.
    extra_phone_number_ids: str = Field(default="", alias="ENGAGE_WEBHOOK_EXTRA_PHONE_NUMBER_IDS")

    @property
    def app_secrets(self) -> list[str]:
        return [s for s in (self.app_secret, self.app_secret_previous) if s]

    @property
    def phone_number_ids(self) -> frozenset[str]:
        extra = (n.strip() for n in self.extra_phone_number_ids.split(","))
        return frozenset({self.phone_number_id, *(n for n in extra if n)})


class QueueSettings(TableSettings):
    send_queue_url: str = Field(alias="ENGAGE_SEND_QUEUE_URL")
    dispatch_queue_url: str = Field(default="", alias="ENGAGE_DISPATCH_QUEUE_URL")
    pass_queue_url: str = Field(default="", alias="ENGAGE_PASS_QUEUE_URL")
    alerts_topic_arn: str = Field(default="", alias="ENGAGE_ALERTS_TOPIC_ARN")


class ApiSettings(QueueSettings):
    events_webhook_secret: str = Field(alias="EVENTS_WEBHOOK_SECRET")
    # Local runtime only: bearer tokens standing in for the JWT authorizer's groups.
    admin_token: str = Field(default="", alias="ENGAGE_ADMIN_TOKEN")
    marketer_token: str = Field(default="", alias="ENGAGE_MARKETER_TOKEN")


class AlertSettings(TableSettings):
    alerts_topic_arn: str = Field(alias="ENGAGE_ALERTS_TOPIC_ARN")


class LinkSettings(TableSettings):
    # Public base of `GET /r/{code}` (the API's URL or a short custom domain), e.g. https://go.shop.example
    link_base_url: str = Field(alias="ENGAGE_LINK_BASE_URL")


class PhoneSettings(EnvSettings):
    # ISO region (e.g. "DE") in which a phone number given in national form ("0151 …") is read, by
    # the API, shop events and imports. Empty: such numbers are refused, never guessed.
    default_country: str = Field(default="", alias="ENGAGE_DEFAULT_COUNTRY")

    @field_validator("default_country")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        value = value.strip().upper()
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"ENGAGE_DEFAULT_COUNTRY={value!r} is not an ISO region with a numbering plan")
        return value


class CursorSettings(EnvSettings):
    # Key that signs the paging cursors the API hands out. Empty: derived from the shop events secret,
    # so a deployment has one less secret to provision; set it to rotate cursors on their own.
    cursor_secret: str = Field(default="", alias="ENGAGE_CURSOR_SECRET")
    events_webhook_secret: str = Field(default="", alias="EVENTS_WEBHOOK_SECRET")

    @property
    def key(self) -> bytes:
        return (self.cursor_secret or "cursor:" + self.events_webhook_secret).encode()


class ImportSettings(TableSettings):
    imports_bucket: str = Field(alias="ENGAGE_IMPORTS_BUCKET")
    import_queue_url: str = Field(default="", alias="ENGAGE_IMPORT_QUEUE_URL")
    # Local runtime only: the address presigned links point at (it serves S3 itself). Empty in AWS.
    s3_public_endpoint: str = Field(default="", alias="ENGAGE_S3_PUBLIC_ENDPOINT")

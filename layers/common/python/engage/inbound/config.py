"""The webhook's marketer-tunable settings (the `webhook` config area over these defaults)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engage.core.observability import logger
from engage.core.types import TagName
from engage.customers import consent
from engage.inbound.ports import InboundStore

CONFIG_AREA = "webhook"


class InboundConfig(BaseModel):
    """Marketer-tunable settings of the webhook (the `webhook` config area overrides any field)."""

    model_config = ConfigDict(extra="ignore")

    opt_out_keywords: dict[str, list[str]] = Field(default_factory=lambda: dict(consent.DEFAULT_OPT_OUT))
    opt_in_keywords: dict[str, list[str]] = Field(default_factory=lambda: dict(consent.DEFAULT_OPT_IN))
    opt_out_payloads: list[str] = Field(default_factory=lambda: ["STOP_PROMOTIONS"])
    opt_in_payloads: list[str] = Field(default_factory=lambda: ["START_PROMOTIONS"])
    confirm_consent: bool = True
    confirmations: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(consent.DEFAULT_CONFIRMATIONS))
    default_language: str = "en"
    service_window_hours: float = 24
    referral_code_pattern: str = r"\bref[\s:#=_-]*([A-Za-z0-9]{4,32})\b"
    referral_tags: dict[str, TagName] = Field(
        default_factory=lambda: {"ad": "source:ctwa-ad", "post": "source:ctwa-post"}
    )
    referral_default_tag: TagName = "source:ctwa"
    inspection_days: int = 30

    @cached_property
    def keywords(self) -> dict[str, tuple[consent.Action, str]]:
        return consent.keyword_index(self.opt_out_keywords, self.opt_in_keywords)

    @cached_property
    def referral_code(self) -> re.Pattern[str]:
        return re.compile(self.referral_code_pattern, re.IGNORECASE)

    def confirmation(self, action: str, language: str) -> str | None:
        texts = self.confirmations.get(action, {})
        return texts.get(language) or texts.get(self.default_language)


def load_config(store: InboundStore) -> InboundConfig:
    raw = store.config(CONFIG_AREA) or {}
    try:
        return InboundConfig.model_validate(raw)
    except ValidationError as error:
        logger.warning("invalid webhook config, using defaults", extra={"error": str(error)[:500]})
        return InboundConfig()

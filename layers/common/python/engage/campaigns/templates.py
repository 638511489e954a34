"""Approved WhatsApp templates campaigns may use, and the playbook's content lint.

Lint findings are warnings, never errors: they are returned when a template is saved and when a
campaign is created (the playbook: 3-5 lines and at most 50 words, sentences at most 15 words, the
name in the first 10 words, a concrete call to action at the end, urgency words in at most 2
sends a week).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engage.delivery.config import SendingConfig

VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
NAME_VARIABLES = {"name", "first_name", "1"}
COUPON_VARIABLES = {"coupon", "coupon_code"}  # the campaign's pool (a unique code each) or its static code
REFERRAL_VARIABLES = {"referral_code", "referral_link"}  # the recipient's own code and wa.me link
KNOWN_VARIABLES = NAME_VARIABLES | COUPON_VARIABLES | REFERRAL_VARIABLES | {"link", "amount"}
CTA_WORDS = (
    "shop", "buy", "order", "tap", "click", "reply", "book", "get", "claim", "use", "visit", "see", "try",
    "discover", "join", "call", "redeem", "start", "check", "open",
)  # fmt: skip


class TemplateButton(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["quick_reply", "url", "copy_code", "phone_number"] = "quick_reply"
    text: str = Field(min_length=1, max_length=25)
    url: str | None = None
    opt_out: bool = Field(default=False, description="The 'Stop promotions' quick reply.")


class TemplateIn(BaseModel):
    """POST /v1/templates: an approved template as registered with WhatsApp."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    category: Literal["marketing", "utility", "authentication"] = "marketing"
    parameter_format: Literal["positional", "named"] = Field(
        default="positional",
        description="As registered with WhatsApp (`parameter_format`): positional {{1}}, {{2}} "
        "or named {{first_name}}.",
    )
    body: str = Field(min_length=1, max_length=1024)
    header_media: Literal["image", "video", "document"] | None = None
    buttons: list[TemplateButton] = Field(default=[], max_length=10)
    status: Literal["approved", "pending", "paused", "disabled"] = "approved"


class Template(TemplateIn):
    model_config = ConfigDict(extra="ignore")

    created_at: str
    updated_at: str | None = None
    warnings: list[str] = []

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(VARIABLE.findall(self.body)))

    @property
    def has_opt_out(self) -> bool:
        return any(b.opt_out for b in self.buttons)


def words(text: str) -> list[str]:
    return re.findall(r"[\w{}'’.-]+", VARIABLE.sub(lambda m: "{{" + m.group(1) + "}}", text))


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def is_urgent(text: str, config: SendingConfig) -> bool:
    lower = text.lower()
    return any(word in lower for word in config.urgency_words)


def lint_text(text: str, config: SendingConfig, *, has_name: bool | None = None) -> list[str]:
    """The content lint for one message body (template body or free text)."""
    warnings: list[str] = []
    lines = [line for line in text.splitlines() if line.strip()]
    count = len(words(text))
    if not 3 <= len(lines) <= 5:
        warnings.append(f"length: {len(lines)} line(s); 3-5 lines read best")
    if count > 50:
        warnings.append(f"length: {count} words; keep it to 50 or fewer")
    for sentence in sentences(text):
        n = len(words(sentence))
        if n > 15:
            warnings.append(f"sentence of {n} words (at most 15): {sentence.strip()[:60]!r}")
    first_ten = " ".join(words(text)[:10])
    named = has_name if has_name is not None else any(f"{{{{{v}}}}}" in first_ten for v in NAME_VARIABLES)
    if not named:
        warnings.append("personal: put the customer's {{name}} in the first 10 words")
    last = (lines[-1] if lines else "").lower()
    if not any(re.search(rf"\b{w}\b", last) for w in CTA_WORDS):
        warnings.append("call to action: end with a concrete action (e.g. 'Tap Shop now to get 20% off')")
    return warnings


def lint_variables(texts: Iterable[str], *, has_coupon: bool, fallbacks: Mapping[str, str]) -> list[str]:
    """What the personalisation will do with each {{variable}}: a coupon variable needs a pool or a
    code on the campaign (else every recipient is skipped, never sent an empty code); an unknown name
    is read from the customer's attributes, and a customer without it is skipped unless a fallback is given."""
    used = {v for text in texts for v in VARIABLE.findall(text)}
    warnings = []
    if used & COUPON_VARIABLES and not has_coupon:
        warnings.append(
            "{{coupon}}: name a coupon_pool (a unique code each) or a coupon_code, or no one gets the message"
        )
    for name in sorted(used - KNOWN_VARIABLES - set(fallbacks)):
        if not name.isdigit():
            warnings.append(
                f"{{{{{name}}}}} is read from the customer's attributes: customers without it are skipped "
                "(give a fallback to send them a default)"
            )
    return warnings


def lint_template(template: TemplateIn, config: SendingConfig) -> list[str]:
    warnings = lint_text(template.body, config)
    if template.category == "marketing" and not any(b.opt_out for b in template.buttons):
        warnings.append("opt-out: marketing templates should carry a 'Stop promotions' quick reply")
    if is_urgent(template.body, config):
        warnings.append(f"urgency words: allowed in at most {config.caps.urgent_max_per_7_days} sends a week")
    return warnings


def urgency_warning(recent_urgent: int, config: SendingConfig) -> list[str]:
    limit = config.caps.urgent_max_per_7_days
    if recent_urgent >= limit:
        return [f"urgency words: {recent_urgent} urgent campaign(s) in the last 7 days (at most {limit} a week)"]
    return []


def check_parameters(template: Template, body: Iterable[str] | Mapping[str, str]) -> list[str]:
    """A campaign's body parameters must match the template's variables: in number for positional
    templates, by name (each once) for templates with named parameters."""
    if template.parameter_format == "named":
        if not isinstance(body, Mapping):
            return [f"template {template.name!r} has named parameters: give the body as {{name: value}}"]
        missing, unknown = set(template.variables) - set(body), set(body) - set(template.variables)
        if missing or unknown:
            return [
                f"template {template.name!r} needs the body parameters {sorted(template.variables)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            ]
        return []
    if isinstance(body, Mapping):
        return [f"template {template.name!r} has positional parameters: give the body as a list"]
    given, wanted = len(list(body)), len(template.variables)
    if given != wanted:
        return [f"template {template.name!r} has {wanted} body variable(s); the campaign gives {given}"]
    return []

"""Fills `{{variables}}` for one recipient. A variable with no value and no fallback skips the
recipient with a reason: a broken message ("Hi {{name}}", "Hi ,") is never sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engage.customers.profiles import Customer
from engage.delivery.jobs import InteractiveMessage, SendJob, TemplateMessage
from engage.delivery.outbound import ButtonParam, Outbound
from engage.delivery.ports import LinkShortener

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


class MissingVariable(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass
class Context:
    customer: Customer
    campaign_id: str | None
    variant: str | None = None
    now: datetime | None = None
    coupon_code: str | None = None
    link_target: str | None = None
    fallbacks: dict[str, str] = field(default_factory=dict)
    shortener: LinkShortener | None = None
    referral: dict[str, str] = field(default_factory=dict)  # referral_code, referral_link of the recipient

    def value(self, name: str) -> str | None:
        c = self.customer
        attrs = c.attributes or {}
        if name in ("name", "first_name"):
            found = (c.name or "").strip()
            return (found.split()[0] if name == "first_name" and found else found) or None
        if name in ("coupon", "coupon_code"):
            return self.coupon_code or _text(attrs.get("coupon_code"))
        if name == "link":
            if not self.link_target or self.shortener is None or self.now is None:
                return None
            return self.shortener.shorten(c.id, self.campaign_id, self.variant, "link", self.link_target, self.now)
        if name in ("referral_code", "referral_link"):
            return self.referral.get(name)
        if name == "amount":
            return _text(attrs.get("amount", attrs.get("cart_amount")))
        return _text(attrs.get(name.removeprefix("attributes.")))


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def fill(text: str, ctx: Context) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = ctx.value(name)
        if value is None:
            value = ctx.fallbacks.get(name)
        if value is None or not value.strip():
            raise MissingVariable(name)
        return value

    return PLACEHOLDER.sub(one, text)


def uses(job: SendJob, names: set[str]) -> bool:
    """Whether the job's message mentions any of these {{variables}} (the sender looks up only what is used)."""
    message = job.message
    text = message.text if not isinstance(message, TemplateMessage) else str(message.variables)
    return any(m in names for m in PLACEHOLDER.findall(text))


def render(job: SendJob, ctx: Context, *, to: str, callback_data: str) -> Outbound:
    """The message for this recipient. Raises MissingVariable."""
    message = job.message
    if isinstance(message, InteractiveMessage):
        return Outbound(
            to=to,
            kind="interactive",
            text=fill(message.text, ctx),
            choices=message.choices,
            list_button=message.list_button,
            callback_data=callback_data,
        )
    if not isinstance(message, TemplateMessage):
        return Outbound(to=to, kind="text", text=fill(message.text, ctx), callback_data=callback_data)
    variables = message.variables or {}
    given = variables.get("body") or []
    names = [str(k) for k in given] if isinstance(given, dict) else []  # named parameters keep their names
    values = list(given.values()) if isinstance(given, dict) else list(given)
    body = [fill(str(v), ctx) for v in values]
    buttons = [
        ButtonParam(index=int(b["index"]), sub_type=b.get("sub_type", "url"), value=fill(str(b["value"]), ctx))
        for b in variables.get("buttons", [])
    ]
    header = variables.get("header_image")
    return Outbound(
        to=to,
        kind="template",
        template=message.template,
        language=message.language,
        body=body,
        body_names=names,
        buttons=buttons,
        header_image=fill(header, ctx) if header else None,
        callback_data=callback_data,
    )

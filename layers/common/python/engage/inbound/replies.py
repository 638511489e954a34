"""Reply attribution: which of our sends an inbound message answers. Runs downstream of the webhook.

The tagger calls `attribute_reply(store, event_item, now)` for every new message history item
(its edge turns the stream record into the item: engage.adapters.dynamo.streams). Rules:

1. the message quotes one of our sends (`data.context_id` is the wamid of one of the customer's
   send items, which carry it from the sender's outcome on): that send. The sender no longer writes
   a `WAMID#` pointer per send; pointers written before are still read for a quoted wamid that none
   of the customer's send items holds;
2. otherwise the customer's latest campaign send that was sent (and did not fail) within the
   attribution window before the message (default 72 hours, the `replies` config area).

The send item gets `replied_at` (and `opted_out_at` when the message was an opt-out keyword)
with `if_not_exists`, so stream retries and later replies change nothing; the metrics consumer
counts the change of the send item. System messages and reactions removed are not replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from engage.core.observability import logger
from engage.core.time import parse_iso
from engage.delivery.send_status import FAILED, SendRef
from engage.inbound.ports import SendStore

CONFIG_AREA = "replies"
NOT_REPLIES = {"system", "unsupported", "unknown"}


class ReplyConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    attribution_window_hours: float = 72


def load_reply_config(store: Any) -> ReplyConfig:
    """CONFIG / replies over the defaults (`store` has `config(area)`); load once per batch."""
    try:
        return ReplyConfig.model_validate(store.config(CONFIG_AREA) or {})
    except ValidationError:
        logger.warning("invalid replies config, using defaults")
        return ReplyConfig()


@dataclass(frozen=True)
class Attribution:
    ref: SendRef
    campaign_id: str | None
    how: Literal["context", "window"]
    recorded: bool  # False when the send item vanished in between


def is_reply(event_item: dict[str, Any]) -> bool:
    data = event_item.get("data") or {}
    if event_item.get("kind") != "message" or data.get("type") in NOT_REPLIES:
        return False
    return not (data.get("type") == "reaction" and not data.get("emoji"))


def attribute_reply(
    store: SendStore, event_item: dict[str, Any], now: datetime, *, config: ReplyConfig | None = None
) -> Attribution | None:
    """Attributes one message history item to a send and records `replied_at` on it."""
    if not is_reply(event_item) or not event_item.get("customer_id"):
        return None
    config = config or ReplyConfig()
    customer_id = str(event_item["customer_id"])
    data = event_item.get("data") or {}
    occurred = event_item.get("occurred_at") or now.strftime("%Y-%m-%dT%H:%M:%SZ")
    sends = store.customer_sends(customer_id)  # one query serves both rules
    found = by_context(store, customer_id, data.get("context_id"), sends)
    how: Literal["context", "window"] = "context"
    if found is None:
        window = timedelta(hours=config.attribution_window_hours)
        found = latest_campaign_send(customer_id, sends, parse_iso(occurred), window)
        how = "window"
    if found is None:
        return None
    ref, send = found
    opted_out = data.get("consent_action") == "opt_out"
    recorded = store.mark_replied(ref, at=occurred, opted_out=opted_out)
    return Attribution(ref=ref, campaign_id=send.get("campaign_id"), how=how, recorded=recorded)


def by_context(
    store: SendStore, customer_id: str, context_id: str | None, sends: list[dict[str, Any]]
) -> tuple[SendRef, dict] | None:
    """The customer's send whose wamid the message quotes: among its send items, else through a
    pointer written before the send items alone were enough (read on the rare reply, never written)."""
    if not context_id:
        return None
    quoted = next((s for s in sends if s.get("wamid") == context_id and s.get("send_key")), None)
    if quoted is not None:
        return SendRef(customer_id, str(quoted["send_key"])), quoted
    ref = store.send_for_wamid(context_id)
    if ref is None or ref.customer_id != customer_id:
        return None
    send = store.get_send(ref)
    return (ref, send) if send is not None else None


def latest_campaign_send(
    customer_id: str, sends: list[dict[str, Any]], occurred: datetime, window: timedelta
) -> tuple[SendRef, dict] | None:
    """The campaign send sent last before `occurred`, no earlier than `occurred - window`."""
    best: dict[str, Any] | None = None
    for send in sends:
        sent_at = send.get("sent_at")
        if not send.get("campaign_id") or not sent_at or send.get("status") == FAILED:
            continue
        moment = parse_iso(sent_at)
        if occurred - window <= moment <= occurred and (best is None or sent_at > best["sent_at"]):
            best = send
    if best is None:
        return None
    return SendRef(customer_id, str(best["send_key"])), best

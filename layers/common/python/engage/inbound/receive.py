"""Inbound WhatsApp notifications: messages, statuses, user preferences, stored once.

`process_notification(notification, now=, ports=, config=)` is the whole synchronous job
of the webhook. For every inbound message, in this order (each step idempotent, the history
put is the commit point):

1. resolve the sender to one customer (`resolve_customer`; `system` messages move identities);
2. conditional puts that must not depend on replay order: the source-channel tag of a
   click-to-WhatsApp referral, the invite record of a first message with a referral code;
3. one profile update per customer and notification: name, first_seen_at, last_inbound_at,
   last_interaction_at (forward only) and consent (only if newer than the stored consent);
4. the history item, put once (a duplicate stops here);
5. for a new consent keyword, a confirmation reply queued as a utility `SendJob`.

Statuses update the send item they belong to (found through `biz_opaque_callback_data` or
the send's wamid) with one conditional update that only moves forward
(`engage.delivery.send_status`). Whatever cannot be used is kept for inspection, never dropped.

The steps live beside this orchestrator: `identity` (who wrote), `messages`, `statuses`,
`preferences` (user preferences and consent), over one `Run` per notification (`run`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from functools import partial

from engage.core.observability import logger
from engage.groups import GROUP_FIELDS
from engage.inbound import bounds
from engage.inbound.config import InboundConfig, load_config
from engage.inbound.payloads import Change, Notification, parse_notification
from engage.inbound.ports import InboundPorts
from engage.inbound.run import Report, Run
from engage.inbound.statuses import process_statuses
from engage.inbound.templates import TEMPLATE_FIELDS, process_template_update

__all__ = ["InboundConfig", "InboundPorts", "Report", "Run", "load_config", "process_notification", "receive"]


def receive(body: bytes, *, now: datetime, ports: InboundPorts, config: InboundConfig | None = None) -> Report:
    """A signed POST body: made storable (engage.inbound.bounds), parsed and processed part by part.

    A body that is not a JSON object is kept whole. When anything had to be changed to store it
    (a lone surrogate, a number DynamoDB cannot hold, nesting too deep), a message was truncated
    or a part was rejected, the raw body is kept too (`WEBHOOK#RAW`, bounded like every kept payload)."""
    config = config or load_config(ports.store)
    problem: str | None = None
    try:
        loaded = bounds.load(body)
    except ValueError as error:
        loaded, problem = None, f"not JSON: {error}"
    if loaded is not None and not isinstance(loaded.document, dict):
        problem = "not a JSON object"
    if loaded is None or problem is not None:
        logger.warning("signed webhook body could not be parsed", extra={"problem": (problem or "")[:200]})
        run = Run(ports=ports, config=config, now=now)
        run.keep("unparsed", body.decode("utf-8", errors="replace"))
        return run.report
    run = Run(ports=ports, config=config, now=now)
    process(run, parse_notification(loaded.document))
    if loaded.changed or run.report.rejected or run.report.truncated:
        run.keep("raw", body.decode("utf-8", errors="replace"))
    return run.report


def process_notification(
    notification: Notification, *, now: datetime, ports: InboundPorts, config: InboundConfig | None = None
) -> Report:
    run = Run(ports=ports, config=config or load_config(ports.store), now=now)
    process(run, notification)
    return run.report


def process(run: Run, notification: Notification) -> None:
    for rejected in notification.all_rejected():
        run.reject(rejected.where, rejected.raw, rejected.reason)
    if not notification.is_whatsapp:
        run.keep("object", notification.raw)
        return
    for change in notification.changes():
        run.isolate("change", change.raw, partial(process_change, run, change))


def process_change(run: Run, change: Change) -> None:
    if (change.field in ("messages", "user_preferences") or change.field in GROUP_FIELDS) and not ours(run, change):
        logger.info(
            "notification for another business number", extra={"number": change.value.metadata.phone_number_id[:64]}
        )
        run.count("other_number")
        run.keep("other_number", change.raw)
        return
    # The steps of messages, preferences and groups are imported when a change has such a part: a
    # status notification, most of the webhook's traffic, never builds their models (docs/webhook.md
    # "Cold start").
    if change.field == "messages":
        value = change.value
        if value.messages:
            from engage.inbound.messages import process_messages

            in_groups = [m for m in value.messages if m.in_group]
            if in_groups:  # members writing in a group: activity, not 1:1 messages
                from engage.inbound.groups import process_group_messages

                process_group_messages(run, in_groups)
                value = replace(value, messages=[m for m in value.messages if not m.in_group])
            process_messages(run, value)
        process_statuses(run, value)
    elif change.field == "user_preferences":
        from engage.inbound.preferences import process_preferences

        process_preferences(run, change.value)
    elif change.field in TEMPLATE_FIELDS:
        process_template_update(run, change)
    elif change.field in GROUP_FIELDS:
        from engage.inbound.groups import process_group_update

        process_group_update(run, change)
    else:
        field = change.field if FIELD_NAME.fullmatch(change.field) else "other"
        run.keep(f"field#{field or 'none'}", change.raw)
    if change.value.errors:
        logger.warning("whatsapp reported errors", extra={"errors": [e.model_dump() for e in change.value.errors][:10]})
        run.keep("errors", change.raw)


FIELD_NAME = re.compile(r"[a-z0-9_]{0,64}")


def ours(run: Run, change: Change) -> bool:
    """Sent to one of this deployment's business numbers (any number when none is configured)."""
    numbers = run.ports.phone_number_ids
    return numbers is None or change.value.metadata.phone_number_id in numbers

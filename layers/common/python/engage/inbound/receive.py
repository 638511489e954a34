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

import json
from datetime import datetime

from engage.core.observability import logger
from engage.inbound.config import InboundConfig, load_config
from engage.inbound.messages import process_messages
from engage.inbound.payloads import Notification, parse_notification
from engage.inbound.ports import InboundPorts
from engage.inbound.preferences import process_preferences
from engage.inbound.run import Report, Run
from engage.inbound.statuses import process_statuses
from engage.inbound.templates import TEMPLATE_FIELDS, process_template_update

__all__ = ["InboundConfig", "InboundPorts", "Report", "Run", "load_config", "process_notification", "receive"]


def receive(body: bytes, *, now: datetime, ports: InboundPorts, config: InboundConfig | None = None) -> Report:
    """A signed POST body: parsed and processed; a body that is not a JSON object is kept whole."""
    problem: str | None = None
    try:
        document = json.loads(body)
    except ValueError as error:
        document, problem = None, f"not JSON: {error}"
    if problem is None and not isinstance(document, dict):
        problem = "not a JSON object"
    if problem is not None:
        logger.warning("signed webhook body could not be parsed", extra={"problem": problem[:200]})
        run = Run(ports=ports, config=config or load_config(ports.store), now=now)
        run.keep("unparsed", body.decode("utf-8", errors="replace"))
        return run.report
    return process_notification(parse_notification(document), now=now, ports=ports, config=config)


def process_notification(
    notification: Notification, *, now: datetime, ports: InboundPorts, config: InboundConfig | None = None
) -> Report:
    run = Run(ports=ports, config=config or load_config(ports.store), now=now)
    for rejected in notification.all_rejected():
        run.keep("rejected", rejected.model_dump(mode="json"))
    if not notification.is_whatsapp:
        run.keep("object", notification.raw)
        return run.report
    for change in notification.changes():
        if change.field == "messages":
            process_messages(run, change.value)
            process_statuses(run, change.value)
        elif change.field == "user_preferences":
            process_preferences(run, change.value)
        elif change.field in TEMPLATE_FIELDS:
            process_template_update(run, change)
        else:
            run.keep(f"field#{change.field or 'none'}", change.raw)
        if change.value.errors:
            logger.warning("whatsapp reported errors", extra={"errors": [e.model_dump() for e in change.value.errors]})
            run.keep("errors", change.raw)
    return run.report

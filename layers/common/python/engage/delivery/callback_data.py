"""The `biz_opaque_callback_data` of our sends: which send a status webhook belongs to.

Every send carries `<customer_id>|<send_key>`, and WhatsApp echoes it on each status of that
message, so the webhook finds the send item directly (without the wamid pointer).
"""

from __future__ import annotations

from engage.delivery.send_status import SendRef


def callback_data(customer_id: str, send_key: str) -> str:
    """`biz_opaque_callback_data` put on every send, so a status webhook finds its send directly."""
    return f"{customer_id}|{send_key}"


def parse_callback_data(value: str | None) -> SendRef | None:
    """The send a status belongs to, or None when the value is not one of ours."""
    if not value or "|" not in value:
        return None
    customer_id, send_key = value.split("|", 1)
    if not customer_id.startswith("c_") or not send_key:
        return None
    return SendRef(customer_id, send_key)

"""Every key of the single table, spelled once. See docs/data-model.md."""

from __future__ import annotations


def customer_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def event_sk(occurred_at: str, kind: str, event_id: str) -> str:
    """A customer's history item: sorted by time, unique by the event's own id."""
    return f"EVT#{occurred_at}#{kind}#{event_id}"


def tag_sk(tag: str) -> str:
    return f"TAG#{tag}"


def tag_index_pk(tag: str) -> str:
    """gsi1pk of a membership item: everyone holding `tag`."""
    return f"TAG#{tag}"


def send_sk(send_key: str) -> str:
    """One send per (customer, send key); the send key is the campaign id for campaign sends."""
    return f"SEND#{send_key}"


def campaign_index_pk(campaign_id: str) -> str:
    """gsi1pk of a send item: the campaign's recipients."""
    return f"CAMP#{campaign_id}"


def wamid_pointer_pk(wamid: str) -> str:
    """WAMID#<wamid> / SEND -> (customer_id, send_key), for statuses without callback data."""
    return f"WAMID#{wamid}"


def callback_data(customer_id: str, send_key: str) -> str:
    """`biz_opaque_callback_data` put on every send, so a status webhook finds its send item directly."""
    return f"{customer_id}|{send_key}"


def parse_callback_data(value: str | None) -> tuple[str, str] | None:
    if not value or "|" not in value:
        return None
    customer_id, send_key = value.split("|", 1)
    if not customer_id.startswith("c_") or not send_key:
        return None
    return customer_id, send_key


# ---------------------------------------------------------------- sending (campaigns, templates, throttle)
def bucket_pk(name: str) -> str:
    """A token bucket shard: `BUCKET#<phone_number_id>#<shard>` or `BUCKET#CAMP#<campaign_id>#<shard>`."""
    return f"BUCKET#{name}"


def send_guard_sk() -> str:
    """CUST#<id> / SENDGUARD: last_sent_at, claimed conditionally (the 6-second pair limit)."""
    return "SENDGUARD"


def deferred_index_pk(shard: int) -> str:
    """gsi2pk of a deferred send item (sparse); gsi2sk is its release time (ISO)."""
    return f"DEFERRED#{shard}"


def paused_index_pk(campaign_id: str) -> str:
    """gsi2pk of a send item parked while its campaign is paused (or halted); resume re-queues them."""
    return f"PAUSED#{campaign_id}"


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def audience_pk(campaign_id: str) -> str:
    """The campaign's audience snapshot partition: CAMP#<id> / AUD#<customer_id>."""
    return f"CAMP#{campaign_id}"


def audience_sk(customer_id: str) -> str:
    return f"AUD#{customer_id}"


def template_pk(name: str) -> str:
    return f"TEMPLATE#{name}"


def tier_sk(hour_iso: str) -> str:
    """TIER / HOUR#<yyyy-mm-ddThh>: business-initiated recipients planned in that hour."""
    return f"HOUR#{hour_iso}"

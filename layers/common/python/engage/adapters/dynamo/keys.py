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


# ---------------------------------------------------------------- metrics (counters, links, alerts)
CAMPAIGN_META_SK = "META"  # CAMP#<id> / META: the campaign item (campaigns area); metrics reads launched_at


def counter_pk(scope: str, shard: int) -> str:
    """A sharded counter partition: CNT#CAMP#<campaign id>#<shard> or CNT#DAY#<shard>."""
    return f"CNT#{scope}#{shard}"


def counter_mark_pk(customer_id: str, send_key: str, metric: str) -> str:
    """Exactly-once marker: this send's `metric` has been counted (TTL)."""
    return f"CNTMARK#{customer_id}#{send_key}#{metric}"


def active_campaigns_pk(day: str) -> str:
    """CNTIDX#<yyyy-mm-dd> / CAMP#<id>: campaigns with counted activity on that cohort day."""
    return f"CNTIDX#{day}"


def link_pk(code: str) -> str:
    return f"LINK#{code}"


def report_pk(campaign_id: str) -> str:
    """REPORT#<campaign id> / 24h: the campaign's 24-hour report."""
    return f"REPORT#{campaign_id}"


ALERT_OPEN_PK = "ALERT#OPEN"  # sk = <kind>#<subject>: one item while the alert is open
ALERT_LOG_PK = "ALERT#LOG"  # sk = <opened_at>#<alert id>: every alert ever opened, with its status

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


# ---------------------------------------------------------------- segments (see docs/segments.md)
SEGMENTS_PK = "SEGMENTS"  # SEGMENTS / SEG#<id> saved segments; SEGMENTS / STATS the base-size estimate
SEGMENT_STATS_SK = "STATS"
AUDIENCE_SUMMARY_SK = "AUDIENCE"  # CAMP#<campaign_id> / AUDIENCE: the snapshot's summary
TAG_CATALOG_PK = "TAGDEF"  # TAGDEF / <tag name>: the tag catalog's items (read by segments)


def segment_sk(segment_id: str) -> str:
    return f"SEG#{segment_id}"


def segment_sizes_pk(segment_id: str) -> str:
    """SEG#<id> / SIZE#<yyyy-mm-dd>: the segment's size on that day (nightly)."""
    return f"SEG#{segment_id}"


def segment_size_sk(day: str) -> str:
    return f"SIZE#{day}"


def audience_pk(campaign_id: str) -> str:
    """CAMP#<campaign_id> / AUD#<customer_id>: who was in the campaign's audience at launch, and why."""
    return f"CAMP#{campaign_id}"


def audience_sk(customer_id: str) -> str:
    return f"AUD#{customer_id}"

"""The customer timeline: newest first across kinds, pages that neither repeat nor skip, every kind shown."""

from __future__ import annotations

import pytest

from engage.audience.timeline import timeline
from engage.core.errors import Invalid
from tests.fakes.audience import InMemoryHistory

CID = "c_1"


def event(at: str, kind: str, event_id: str, **data):
    return {"pk": f"CUST#{CID}", "sk": f"EVT#{at}#{kind}#{event_id}", "kind": kind, "event_id": event_id,
            "occurred_at": at, "data": data}  # fmt: skip


def tag_change(at: str, tag: str, change: str, by: str, reason: str):
    return {"pk": f"CUST#{CID}", "sk": f"TAGLOG#{at}#{tag}#{change}#e1", "at": at, "tag": tag, "change": change,
            "by": by, "reason": reason, "event_id": "e1"}  # fmt: skip


def send(key: str, intent_at: str, **fields):
    return {"pk": f"CUST#{CID}", "sk": f"SEND#{key}", "send_key": key, "intent_at": intent_at, **fields}


PARTITION = [
    event("2026-11-20T09:00:00Z", "message", "wamid.1", type="text", text="Rabatt?"),
    tag_change("2026-11-20T09:00:01Z", "interest:price-sensitive", "added", "rule:kw-price-sensitive", "said rabatt"),
    send("camp-1", "2026-11-21T09:30:00Z", campaign_id="camp-1", state="sent", status="read",
         clicked_at="2026-11-21T10:00:00Z"),
    event("2026-11-21T10:00:00Z", "link_clicked", "r-1", url="https://s/x"),
    event("2026-11-22T11:00:00Z", "order_placed", "o-1", order_id="1"),
    event("2026-11-22T11:00:00Z", "coupon_redeemed", "o-1", code="WELCOME-8K2M"),  # same second, other kind
    tag_change("2026-11-22T11:00:00Z", "cart:abandoned", "removed", "rule:or-order-effects", "order 1"),
    send("journey:welcome:1", "2026-11-23T08:00:00Z", state="deferred", reason="quiet_hours"),
    {"pk": f"CUST#{CID}", "sk": "PROFILE", "id": CID},
    {"pk": f"CUST#{CID}", "sk": "TAG#interest:price-sensitive"},
]  # fmt: skip


def every_page(reader, limit):
    entries, cursor, pages = [], None, 0
    while True:
        page, cursor = timeline(reader, CID, limit=limit, after=cursor)
        entries += page
        pages += 1
        if cursor is None:
            return entries, pages


@pytest.mark.parametrize("limit", [1, 2, 3, 8, 50])
def test_every_entry_once_newest_first_whatever_the_page_size(limit):
    entries, pages = every_page(InMemoryHistory(PARTITION), limit)
    assert len(entries) == 8  # the profile and the membership are not history
    keys = [(e["at"], e["kind"]) for e in entries]
    assert keys == sorted(keys, key=lambda k: k[0], reverse=True)
    assert len({str(e) for e in entries}) == 8
    assert pages == max(1, -(-8 // limit))


def test_entries_say_what_happened_in_each_kind():
    entries, _ = timeline(InMemoryHistory(PARTITION), CID, limit=50, after=None)
    by_kind = {e["kind"]: e for e in entries}
    assert by_kind["message"]["direction"] == "in" and by_kind["message"]["data"]["text"] == "Rabatt?"
    assert by_kind["send"]["direction"] == "out"
    sends = [e for e in entries if e["kind"] == "send"]
    assert [(s["send_key"], s["state"]) for s in sends] == [("journey:welcome:1", "deferred"), ("camp-1", "sent")]
    assert sends[1]["clicked_at"] == "2026-11-21T10:00:00Z"
    assert by_kind["coupon_redeemed"]["data"] == {"code": "WELCOME-8K2M"}  # a kind nobody told the timeline about
    removed = by_kind["tag_removed"]
    assert (removed["tag"], removed["by"], removed["reason"]) == ("cart:abandoned", "rule:or-order-effects", "order 1")


def test_a_first_page_reads_little_more_than_it_shows():
    many = [event(f"2026-11-{1 + n // 24:02d}T{n % 24:02d}:00:00Z", "message", f"w{n}") for n in range(500)]
    reader = InMemoryHistory(many)
    entries, cursor = timeline(reader, CID, limit=10, after=None)
    assert len(entries) == 10 and cursor
    assert reader.read <= 12


@pytest.mark.parametrize("cursor", ["no-bar", "|", "2026-11-20T09:00:00Z|"])
def test_a_garbled_position_is_refused(cursor):
    with pytest.raises(Invalid):
        timeline(InMemoryHistory(PARTITION), CID, limit=5, after=cursor)

"""Status rules: forward only, read implies delivered, failed is terminal and stale once read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.delivery.send_status import StatusChange, allows, fields_after, normalise
from engage.metrics.counters import transitions


def change(status: str, at: str = "2026-11-23T10:00:00Z", **kw) -> StatusChange:
    return StatusChange(wamid="wamid.1", status=status, at=at, **kw)


@pytest.mark.parametrize(
    ("current", "status", "outcome"),
    [
        ({"status": "accepted", "status_rank": 0}, "sent", "applied"),
        ({"status": "sent", "status_rank": 1}, "delivered", "applied"),
        ({"status": "delivered", "status_rank": 2}, "read", "applied"),
        ({"status": "read", "status_rank": 3}, "delivered", "stale"),
        ({"status": "delivered", "status_rank": 2}, "delivered", "stale"),
        ({"status": "delivered", "status_rank": 2}, "sent", "stale"),
        ({"status": "failed"}, "read", "stale"),
        ({"status": "failed"}, "failed", "stale"),
        ({"status": "delivered", "status_rank": 2}, "failed", "applied"),
        ({"status": "read", "status_rank": 3}, "failed", "stale"),
        ({"status": "read", "status_rank": 3, "read_at": "2026-11-23T10:00:00Z"}, "failed", "stale"),
        ({}, "read", "applied"),
        (None, "sent", "missing"),
    ],
)
def test_statuses_only_move_forward_and_failed_is_terminal(current, status, outcome):
    assert allows(current, change(status)) == outcome


def test_read_without_delivered_sets_sent_and_delivered_times_too():
    after = fields_after({"status": "accepted", "status_rank": 0}, change("read", at="2026-11-23T10:05:00Z"))
    assert after["status"] == "read" and after["status_rank"] == 3
    assert after["delivered_at"] == after["read_at"] == after["sent_at"] == "2026-11-23T10:05:00Z"


def test_earlier_timestamps_are_never_overwritten():
    current = {"status": "sent", "status_rank": 1, "sent_at": "2026-11-23T09:00:00Z"}
    after = fields_after(current, change("delivered", at="2026-11-23T09:01:00Z"))
    assert after["sent_at"] == "2026-11-23T09:00:00Z"
    assert after["delivered_at"] == "2026-11-23T09:01:00Z"


def test_failed_keeps_error_code_and_title_and_leaves_the_rank():
    after = fields_after(
        {"status": "sent", "status_rank": 1}, change("failed", error_code=131026, error_title="Message undeliverable")
    )
    assert after["status"] == "failed" and after["status_rank"] == 1
    assert after["error_code"] == 131026 and after["error_title"] == "Message undeliverable"
    assert after["failed_at"] == "2026-11-23T10:00:00Z"


def test_pricing_category_is_kept():
    after = fields_after({}, change("sent", pricing_category="marketing", pricing_model="PMP", billable=True))
    assert after["pricing_category"] == "marketing" and after["billable"] is True


def test_played_counts_as_read_and_unknown_statuses_are_not_tracked():
    assert normalise("played") == "read"
    assert normalise("failed") == "failed"
    assert normalise("deleted") is None


STATUS_NAMES = ("sent", "delivered", "read", "played", "failed")


@given(st.lists(st.sampled_from(STATUS_NAMES), min_size=1, max_size=8))
def test_whatever_order_statuses_arrive_in_a_send_is_never_counted_both_read_and_failed(order):
    # Given a send WhatsApp accepted, and its statuses arriving in any order, with duplicates
    item: dict = {"customer_id": "c_1", "send_key": "camp", "status": "accepted", "status_rank": 0, "state": "sent"}
    counted: list[str] = []
    for i, name in enumerate(order):
        stored = normalise(name)
        assert stored is not None
        update = change(stored, at=f"2026-11-23T10:0{i}:00Z", error_code=131026 if stored == "failed" else None)
        # When each one goes through the status rule and the counters
        if allows(item, update) != "applied":
            continue
        after = fields_after(item, update)
        counted += [t.metric for t in transitions(item, after)]
        item = after
    # Then the send counts as read or as failed, never both, and each metric at most once
    assert not ("read" in counted and "failed" in counted)
    assert len(counted) == len(set(counted))


def test_a_failed_status_after_read_is_stale_and_counts_nothing():
    read = {"customer_id": "c_1", "send_key": "camp", "status": "read", "status_rank": 3, "read_at": "t"}
    assert allows(read, change("failed", error_code=131000)) == "stale"
    # an item that somehow holds both (older data) is not counted failed either
    assert [t.metric for t in transitions(read, {**read, "failed_at": "t2"})] == []

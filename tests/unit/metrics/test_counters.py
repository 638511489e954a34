"""Which send-item changes count, and that each (send, metric) counts once whatever arrives."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from engage.adapters.dynamo.streams import send_item_change
from engage.core.time import parse_iso
from engage.metrics.counters import (
    BatchCount,
    StreamChange,
    Transition,
    add_up,
    breakdown,
    change_of,
    count_batch,
    position_value,
    tally,
    transitions,
)
from tests.helpers.send_streams import lifecycle, send_item

NOW = parse_iso("2026-11-23T12:00:00Z")


class FakeCounterStore:
    """The CounterStore port in memory: each lane's position and counters by (scope, attribute),
    written together per batch as the DynamoDB adapter's transaction does."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self.writes = 0

    def apply_batch(self, lane: str, records: list[StreamChange], now) -> BatchCount:
        result = BatchCount()
        applied = self.positions.get(lane)
        fresh = [r for r in records if applied is None or position_value(r.position) > applied]
        result.replayed = sum(len(r.change.transitions) for r in records if r.change and r not in fresh)
        changes = [r.change for r in fresh if r.change]
        for key, attributes in tally(changes).items():
            self.writes += 1
            for attribute, n in attributes.items():
                self.counts[(f"campaign:{key.campaign_id}", attribute)] += n
                self.counts[(f"day:{key.day}:{key.segment_id}", attribute)] += n
        if fresh:
            self.positions[lane] = position_value(fresh[-1].position)
        result.counted = sum(len(c.transitions) for c in changes)
        return result

    def campaign(self, campaign_id: str = "cmp_1") -> dict[str, int]:
        return {attr: n for (scope, attr), n in self.counts.items() if scope == f"campaign:{campaign_id}"}


def as_stream(pairs, start: int = 1) -> list[StreamChange]:
    return [StreamChange(str(start + i), change_of(old, new, NOW)) for i, (old, new) in enumerate(pairs)]


def metrics_of(old, new) -> list[str]:
    return [t.metric for t in transitions(old, new)]


def test_each_step_of_a_send_counts_its_own_metric():
    steps = lifecycle("c_1")
    assert [metrics_of(old, new) for old, new in steps] == [[], ["sent"], ["delivered"], ["read"]]


def test_read_without_delivered_counts_both_and_a_late_delivered_counts_nothing():
    _, sent = lifecycle("c_1")[1]
    read_first = {**sent, "status": "read", "read_at": "2026-11-23T10:01:00Z"}
    assert metrics_of(sent, read_first) == ["delivered", "read"]
    late_delivered = {**read_first, "delivered_at": "2026-11-23T10:01:30Z"}
    assert metrics_of(read_first, late_delivered) == []


def test_duplicate_status_write_changes_nothing():
    _, delivered = lifecycle("c_1")[2]
    assert metrics_of(delivered, {**delivered, "status_rank": 2}) == []


def test_failures_refusals_and_deferrals_carry_their_code_or_reason():
    _, sent = lifecycle("c_1")[1]
    failed = transitions(sent, {**sent, "status": "failed", "failed_at": "2026-11-23T10:00:02Z", "error_code": 131026})
    assert failed == [Transition("failed", "131026")]
    assert failed[0].attributes() == ["failed", "failed:131026"]
    intent = send_item("c_2")
    assert transitions(intent, {**intent, "state": "refused", "reason": "no_consent"}) == [
        Transition("refused", "no_consent")
    ]
    assert transitions(intent, {**intent, "state": "deferred", "reason": "quiet hours!"}) == [
        Transition("deferred", "quiet_hours_")
    ]
    assert transitions(intent, {**intent, "state": "failed"}) == [Transition("failed", "unknown")]


def test_insert_with_everything_counts_everything_and_remove_counts_nothing():
    _, read = lifecycle("c_1")[3]
    assert metrics_of(None, read) == ["sent", "delivered", "read"]
    assert metrics_of(read, None) == []


def test_only_send_items_count():
    profile = {"pk": "CUST#c_1", "sk": "PROFILE", "sent_at": "2026-11-23T10:00:00Z"}
    assert send_item_change(None, profile) is None
    # the edge gives the domain the send item without the table's keys
    without_keys = {k: v for k, v in send_item("c_1").items() if k not in ("pk", "sk")}
    assert send_item_change(None, send_item("c_1")) == (None, without_keys)


def test_cohort_day_is_the_send_day_even_for_a_late_read():
    _, delivered = lifecycle("c_1")[2]
    next_day_read = {**delivered, "read_at": "2026-11-24T08:00:00Z"}
    change = change_of(delivered, next_day_read, NOW)
    assert change is not None and change.day == "2026-11-23"
    refused = {**send_item("c_9"), "state": "refused", "reason": "cap"}
    assert change_of(None, refused, NOW).day == "2026-11-23"  # no own time: the change's time


def test_replays_in_any_batch_boundaries_count_exactly_once():
    # Given 30 recipients' changes on one shard (each send's changes in order, sends interleaved)
    store = FakeCounterStore()
    queues = [lifecycle(f"c_{i}") for i in range(30)]
    rng = random.Random(7)
    pairs = []
    while any(queues):
        pairs.append(rng.choice([q for q in queues if q]).pop(0))
    stream = as_stream(pairs)
    # When it is counted in batches of 10, then replayed in batches of 3, 16 and whole
    for size in (10, 3, 16, len(stream)):
        for i in range(0, len(stream), size):
            count_batch(store, "shard-1", stream[i : i + size], NOW)
    # Then each recipient counts once per metric, and a batch wrote each of its counters once
    assert store.campaign() == {"sent": 30, "delivered": 30, "read": 30}
    assert store.writes <= len(stream) // 10  # one counter write (at most) per first-pass batch; replays write none


def test_a_replayed_batch_reports_its_transitions_as_replayed():
    store = FakeCounterStore()
    batch = as_stream(lifecycle("c_1"))
    assert count_batch(store, "shard-1", batch, NOW).counted == 3
    again = count_batch(store, "shard-1", batch, NOW)
    assert (again.counted, again.replayed) == (0, 3)


def test_a_state_that_comes_back_counts_once():
    # The sender carries `deferred_once` onto later writes of a send it deferred
    store = FakeCounterStore()
    intent = send_item("c_1")
    deferred = {**intent, "state": "deferred", "reason": "quiet_hours", "deferred_once": True}
    retried = {**intent, "deferred_once": True}
    pairs = [(intent, deferred), (deferred, retried), (retried, {**deferred, "reason": "pair_limit"})]
    count_batch(store, "shard-1", as_stream(pairs), NOW)
    assert store.campaign()["deferred"] == 1


@pytest.mark.parametrize("rows,expected", [([], 0), ([{"sent": 2}, {"sent": 3, "pk": "x"}], 5)])
def test_add_up_sums_only_counter_attributes(rows, expected):
    assert add_up(rows)["sent"] == expected


def test_breakdown_lists_details():
    counts = add_up([{"failed": 3, "failed:131026": 2, "failed:131049": 1, "day": "2026-11-23"}])
    assert breakdown(counts, "failed") == {"131026": 2, "131049": 1}

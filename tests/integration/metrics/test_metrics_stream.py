"""The metrics function on moto: exact counts under replays, duplicates, disorder and concurrency."""

from __future__ import annotations

import random
import threading

import pytest
from botocore.exceptions import ClientError

from tests.conftest import load_event
from tests.helpers.send_streams import StreamPump, lifecycle, send_item, stream_event, stream_record
from tests.integration.metrics.conftest import campaign_counts, day_counts


def handle(event, lambda_context):
    from functions.metrics import app

    return app.lambda_handler(event, lambda_context)


def test_sample_batch_counts_each_transition_and_a_replay_counts_nothing(aws, quiet_stream, lambda_context):
    # Given the sample batch of one send going sent -> delivered -> read -> replied
    event = load_event("metrics/status_batch")
    # When it is processed, then replayed twice (Lambda retry, stream checkpoint)
    for _ in range(3):
        assert handle(event, lambda_context) == {"batchItemFailures": []}
    # Then each metric counts once, in the campaign, its variant, its day and its segment
    expected = {"sent": 1, "delivered": 1, "read": 1, "replied": 1}
    assert campaign_counts("cmp_spring") == expected
    assert day_counts("2026-11-23") == expected
    from engage import wiring

    rows = wiring.metrics.counters().daily_rows("2026-11-23", "2026-11-23")
    assert {row["segment_id"] for row in rows} == {"seg_vip"}


def test_every_sample_event_is_accepted(aws, quiet_stream, lambda_context):
    for name in ("sent", "delivered", "read_without_delivered", "failed", "refused", "deferred"):
        assert handle(load_event(f"metrics/{name}"), lambda_context) == {"batchItemFailures": []}
    counts = campaign_counts("cmp_spring")
    assert counts["failed:131026"] == 1 and counts["refused:no_consent"] == 1 and counts["deferred:quiet_hours"] == 1
    # delivered.json and read_without_delivered.json are two alternative histories of one send (a
    # stream carries one of them: each record's old image is the item as the record before left it)
    assert (counts["sent"], counts["delivered"], counts["read"]) == (1, 2, 1)


def interleaved(records_by_send: list[list[dict]], seed: int) -> list[dict]:
    """One shard's order: each send's changes in their own order, sends interleaved at random."""
    queues = [list(r) for r in records_by_send]
    rng = random.Random(seed)
    out = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        out.append(queue.pop(0))
    return [{**r, "dynamodb": {**r["dynamodb"], "SequenceNumber": str(5_000 + i)}} for i, r in enumerate(out)]


def test_out_of_order_statuses_and_replays_in_other_batch_sizes_count_exactly(aws, quiet_stream, lambda_context):
    # Given 12 recipients whose statuses reached the table read-before-delivered for half of them
    sends = []
    for i in range(12):
        steps = lifecycle(f"c_{i}", variant="B" if i % 2 else "A")
        if i % 3 == 0:  # read first: the delivered that follows changes nothing that counts
            _, sent = steps[1]
            read = {**sent, "status": "read", "read_at": "2026-11-23T10:03:00Z"}
            steps = [*steps[:2], (sent, read), (read, {**read, "delivered_at": "2026-11-23T10:03:01Z"})]
        sends.append([stream_record(old, new) for old, new in steps])
    records = interleaved(sends, seed=3)
    # When the shard is delivered in batches of 25, then replayed in batches of 7 (other boundaries,
    # as after a bisect), then replayed whole
    for size in (25, 7, len(records)):
        for i in range(0, len(records), size):
            assert handle(stream_event(*records[i : i + size]), lambda_context) == {"batchItemFailures": []}
    # Then each recipient counts once per metric, split by variant
    assert campaign_counts() == {"sent": 12, "delivered": 12, "read": 12}
    from engage import wiring
    from engage.metrics.counters import add_up

    rows = wiring.metrics.counters().campaign_rows("cmp_1")
    for variant in ("A", "B"):
        assert add_up(r for r in rows if r["variant"] == variant)["read"] == 6


def test_a_batch_writes_each_counter_once(aws, quiet_stream, lambda_context):
    # Given 40 recipients' whole lifecycles in one batch
    records = interleaved([[stream_record(o, n) for o, n in lifecycle(f"c_{i}")] for i in range(40)], seed=5)
    from engage import wiring

    table = wiring.aws.table()
    calls = []
    real = table.client.transact_write_items
    table.client.transact_write_items = lambda **kw: calls.append(kw) or real(**kw)
    try:
        assert handle(stream_event(*records), lambda_context) == {"batchItemFailures": []}
    finally:
        table.client.transact_write_items = real
    # Then one transaction: the campaign item, the day item and the shard's position
    assert len(calls) == 1 and len(calls[0]["TransactItems"]) == 3
    assert campaign_counts() == {"sent": 40, "delivered": 40, "read": 40}


def test_concurrent_invocations_of_the_same_shard_count_once(aws, serialized_moto):
    # Given 10 recipients' records, and 4 workers that each process ALL of them (a retried
    # invocation racing one that timed out), in batches of their own size
    from engage import wiring
    from engage.core.time import parse_iso
    from functions.metrics.app import stream_changes

    records = interleaved([[stream_record(o, n) for o, n in lifecycle(f"c_{i}")] for i in range(10)], seed=1)
    store = wiring.metrics.counters()
    at = parse_iso("2026-11-23T10:00:00Z")

    def worker(size: int) -> None:
        for i in range(0, len(records), size):
            store.apply_batch("shardId-1", stream_changes(records[i : i + size]), at)

    threads = [threading.Thread(target=worker, args=(size,)) for size in (3, 5, 8, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then nothing is double counted
    assert campaign_counts() == {"sent": 10, "delivered": 10, "read": 10}


class FailingTransactions:
    """Fails the table's transactions `fail` names (a throttle that outlasts the retries, or a crash
    right after DynamoDB committed), on the table's own client while in use."""

    def __init__(self, table, fail):
        self.client = table.client
        self.real = self.client.transact_write_items
        self.fail = fail
        self.calls = 0

    def transact_write_items(self, **kwargs):
        self.calls += 1
        mode = self.fail(self.calls)
        if mode == "before":
            raise RuntimeError("throttled before the commit")
        result = self.real(**kwargs)
        if mode == "after":
            raise RuntimeError("crashed after the commit")
        return result

    def __enter__(self):
        self.client.transact_write_items = self.transact_write_items
        return self

    def __exit__(self, *exc):
        self.client.transact_write_items = self.real


def many_campaign_records(n: int) -> list[dict]:
    """n sends of n different campaigns: 2n counter items, so a batch needs several transactions."""
    return [stream_record(*lifecycle(f"c_{i}", f"cmp_{i}")[1], sequence=7_000 + i) for i in range(n)]


def test_a_failed_run_is_reported_from_its_first_record_and_counted_on_retry(aws, quiet_stream, lambda_context):
    from engage import wiring

    # Given a batch of 120 sends of 120 campaigns (3 transactions of at most 99 counter items)
    records = many_campaign_records(120)
    table = wiring.aws.table()
    with FailingTransactions(table, lambda n: "before" if n == 2 else None):
        first = handle(stream_event(*records), lambda_context)
    # Then the failure is reported at the first record of the second run; the first run is counted
    failed_at = first["batchItemFailures"][0]["itemIdentifier"]
    position = [r["dynamodb"]["SequenceNumber"] for r in records].index(failed_at)
    assert 0 < position < 120
    counted = sum(campaign_counts(f"cmp_{i}").get("sent", 0) for i in range(120))
    assert counted == position
    # When Lambda retries from the failed record on, then replays the whole batch
    assert handle(stream_event(*records[position:]), lambda_context) == {"batchItemFailures": []}
    assert handle(stream_event(*records), lambda_context) == {"batchItemFailures": []}
    # Then every send counts once
    assert all(campaign_counts(f"cmp_{i}") == {"sent": 1} for i in range(120))


def test_a_lost_answer_after_the_commit_counts_once(aws, quiet_stream, lambda_context):
    from engage import wiring

    # Given the transaction commits but its answer is lost (the call raises after DynamoDB applied it)
    records = [stream_record(o, n) for o, n in lifecycle("c_1")] + [stream_record(o, n) for o, n in lifecycle("c_2")]
    with FailingTransactions(wiring.aws.table(), lambda n: "after" if n == 1 else None):
        first = handle(stream_event(*records), lambda_context)
    # Then the batch is reported failed from its first record, and Lambda's retry counts nothing twice
    assert first == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    assert handle(stream_event(*records), lambda_context) == {"batchItemFailures": []}
    assert campaign_counts() == {"sent": 2, "delivered": 2, "read": 2}


def test_a_crash_between_the_counter_write_and_the_checkpoint_counts_once(aws, quiet_stream, lambda_context):
    from engage import wiring

    # Given the function dies after the commit, before Lambda records the checkpoint
    records = [stream_record(o, n) for o, n in lifecycle("c_1")] + [stream_record(o, n) for o, n in lifecycle("c_2")]
    store = wiring.metrics.counters()

    def crash(*args):
        raise RuntimeError("container killed")

    store.note_active = crash
    with pytest.raises(RuntimeError):
        handle(stream_event(*records), lambda_context)
    del store.note_active
    # When Lambda bisects the batch and retries both halves, then the whole batch again
    half = len(records) // 2
    for event in (stream_event(*records[:half]), stream_event(*records[half:]), stream_event(*records)):
        assert handle(event, lambda_context) == {"batchItemFailures": []}
    # Then each metric counts once
    assert campaign_counts() == {"sent": 2, "delivered": 2, "read": 2}


def test_transaction_conflicts_are_retried_and_count_once(aws, quiet_stream):
    from engage import wiring
    from engage.adapters.dynamo.metrics_counters import CounterRepository
    from engage.core.time import parse_iso
    from functions.metrics.app import stream_changes

    table = wiring.aws.table()
    real = table.client
    calls = {"n": 0}

    class ConflictingClient:
        def transact_write_items(self, **kwargs):
            calls["n"] += 1
            if calls["n"] <= 2:
                reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}]
                error = {"Code": "TransactionCanceledException", "Message": "conflict"}
                raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
            return real.transact_write_items(**kwargs)

        def __getattr__(self, name):
            return getattr(real, name)

    class TableView:
        name = table.name
        client = ConflictingClient()
        get = table.get

    repo = CounterRepository(TableView(), sleep=lambda _: None)  # type: ignore[arg-type]
    repo.note_active = lambda *a: None  # the activity index is not under test here
    records = stream_changes([stream_record(*lifecycle("c_1")[1], sequence=900)])
    at = parse_iso("2026-11-23T10:00:00Z")
    assert repo.apply_batch("shardId-1", records, at).counted == 1
    assert repo.apply_batch("shardId-1", records, at).replayed == 1
    assert calls["n"] == 3 and campaign_counts() == {"sent": 1}


def test_each_shard_keeps_its_own_position(aws, quiet_stream, lambda_context):
    # Given two shards whose sequence numbers overlap
    a = stream_record(*lifecycle("c_1")[1], sequence=500)
    b = stream_record(*lifecycle("c_2")[1], sequence=400)
    window = {"window": {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T10:01:00Z"}, "state": {}}
    # When each is delivered (twice) with its shard named, as under a tumbling window
    for _ in range(2):
        assert handle({**stream_event(a), "shardId": "shardId-A", **window}, lambda_context) == {
            "batchItemFailures": [],
            "state": {},
        }
        assert handle({**stream_event(b), "shardId": "shardId-B", **window}, lambda_context)["batchItemFailures"] == []
    # Then both count, once
    assert campaign_counts() == {"sent": 2}


def test_sends_written_to_the_table_are_counted_from_the_real_stream(aws, lambda_context):
    # Given the sender and the webhook writing send items as docs/data-model.md describes them
    from engage import wiring
    from engage.adapters.dynamo.table import Update

    table = wiring.aws.table()
    pump = StreamPump(aws.stream_arn)
    for i in range(5):
        item = send_item(f"c_{i}", "cmp_1")
        table.put(item)
        accepted = Update().set(state="sent", status="accepted", sent_at="2026-11-23T10:00:00Z")
        table.update(item["pk"], item["sk"], accepted)
    for i in range(5):  # every status twice, read before delivered for half of them
        pk, sk = f"CUST#c_{i}", "SEND#cmp_1"
        order = ["read_at", "delivered_at"] if i % 2 else ["delivered_at", "read_at"]
        for field in order * 2:
            table.update(pk, sk, Update().set_if_absent(**{field: "2026-11-23T10:01:00Z"}))
    table.update("CUST#c_0", "SEND#cmp_1", Update().set_if_absent(opted_out_at="2026-11-23T11:00:00Z"))
    # When the stream is delivered to the metrics function (and delivered again)
    events = pump.events(batch_size=7)
    for event in events + events:
        assert handle(event, lambda_context) == {"batchItemFailures": []}
    # Then
    assert campaign_counts() == {"sent": 5, "delivered": 5, "read": 5, "opted_out": 1}
    assert wiring.metrics.counters().active_campaigns(["2026-11-23"]).keys() == {"cmp_1"}

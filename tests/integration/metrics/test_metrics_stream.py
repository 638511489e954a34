"""The metrics function on moto: exact counts under replays, duplicates, disorder and concurrency."""

from __future__ import annotations

import random
import threading
from functools import partial

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
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
    assert (counts["sent"], counts["delivered"], counts["read"]) == (1, 1, 1)


def test_duplicate_and_out_of_order_statuses_across_batches_count_exactly(aws, quiet_stream, lambda_context):
    # Given 12 recipients; every change arrives twice, shuffled, in batches of 25
    changes = [pair for i in range(12) for pair in lifecycle(f"c_{i}", variant="B" if i % 2 else "A")]
    records = [stream_record(old, new) for old, new in changes * 2]
    random.Random(3).shuffle(records)
    batches = [stream_event(*records[i : i + 25]) for i in range(0, len(records), 25)]
    # When all batches run, then all run again
    for event in batches + batches:
        assert handle(event, lambda_context) == {"batchItemFailures": []}
    # Then each recipient counts once per metric, split by variant
    assert campaign_counts() == {"sent": 12, "delivered": 12, "read": 12}
    from engage import wiring
    from engage.metrics.counters import add_up

    rows = wiring.metrics.counters().campaign_rows("cmp_1")
    for variant in ("A", "B"):
        assert add_up(r for r in rows if r["variant"] == variant)["read"] == 6


def test_concurrent_workers_replaying_the_same_records_count_once(aws, serialized_moto):
    # Given 10 recipients' changes, and 4 workers that each process ALL of them in their own order
    from engage import wiring
    from engage.core.time import parse_iso
    from engage.metrics.counters import count_change

    changes = [pair for i in range(10) for pair in lifecycle(f"c_{i}")]
    store = wiring.metrics.counters()
    at = parse_iso("2026-11-23T10:00:00Z")

    def worker(seed: int) -> None:
        mine = list(changes)
        random.Random(seed).shuffle(mine)
        for old, new in mine:
            count_change(store, old, new, at=at)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then nothing is double counted
    assert campaign_counts() == {"sent": 10, "delivered": 10, "read": 10}


def test_a_failing_record_is_reported_alone_and_counted_on_retry(aws, quiet_stream, lambda_context):
    from engage import wiring
    from functions.metrics.app import record_handler

    class FlakyStore:
        def __init__(self):
            self.failed = False

        def apply(self, change, now):
            if change.customer_id == "c_2" and not self.failed:
                self.failed = True
                raise RuntimeError("throttled")
            return wiring.metrics.counters().apply(change, now)

    records = [stream_record(old, new, sequence=100 + i) for i, (old, new) in enumerate(lifecycle("c_1")[1:])]
    bad = stream_record(*lifecycle("c_2")[1], sequence=200)
    event = stream_event(*records[:1], bad, *records[1:])
    store = FlakyStore()
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    handler = partial(record_handler, store=store)
    first = process_partial_response(event=event, record_handler=handler, processor=processor)
    assert first == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    # Lambda retries from the failed record on: later records come again and count nothing twice
    retry = stream_event(bad, *records[1:])
    assert process_partial_response(event=retry, record_handler=handler, processor=processor) == {
        "batchItemFailures": []
    }
    assert campaign_counts() == {"sent": 2, "delivered": 1, "read": 1}


def test_transaction_conflicts_are_retried_and_count_once(aws, quiet_stream):
    from engage import wiring
    from engage.adapters.dynamo.metrics_counters import CounterRepository
    from engage.core.time import parse_iso
    from engage.metrics.counters import change_of

    table = wiring.aws.table()
    real = table.client.transact_write_items
    calls = {"n": 0}

    class ConflictingClient:
        def transact_write_items(self, **kwargs):
            calls["n"] += 1
            if calls["n"] <= 2:
                reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}]
                error = {"Code": "TransactionCanceledException", "Message": "conflict"}
                raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
            return real(**kwargs)

    class TableView:
        name = table.name
        client = ConflictingClient()

    repo = CounterRepository(TableView(), sleep=lambda _: None)  # type: ignore[arg-type]
    repo.note_active = lambda *a: None  # the activity index is not under test here
    old, new = lifecycle("c_1")[1]
    change = change_of(old, new, parse_iso("2026-11-23T10:00:00Z"))
    assert repo.apply(change, parse_iso("2026-11-23T10:00:00Z")) == ["sent"]
    assert repo.apply(change, parse_iso("2026-11-23T10:00:00Z")) == []
    assert calls["n"] == 4 and campaign_counts() == {"sent": 1}


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

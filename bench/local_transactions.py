"""DynamoDB transactions on the local runtime's moto over a long session: time and memory stay flat.

A shop-event-like workload: each transaction claims an event id (`attribute_not_exists`) and bumps
a per-customer counter; every other one replays an event already claimed, so it is cancelled. A
stream reader follows the stream as the runtime's consumers do, and consumed records are trimmed
as the runtime trims them. The table is preloaded with customers, so a whole-table copy per
transaction (moto's own rollback) would show.

    python -m bench local_transactions
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

PRELOAD = 2_000
TRANSACTIONS = 2_000
CHECKPOINT = 500


@dataclass
class Figures:
    transactions: int
    cancelled: int
    stream_records_read: int
    first_ms_per_txn: float  # the first CHECKPOINT transactions
    last_ms_per_txn: float  # the last CHECKPOINT transactions
    memory_at_checkpoint_kb: float  # traced memory after CHECKPOINT transactions
    memory_at_end_kb: float  # after all of them
    peak_kb: float


def _reader(streams: Any, arn: str) -> Any:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    state = {
        "iterator": streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ],
        "read": 0,
        "position": None,
    }

    def read() -> None:
        while True:
            response = streams.get_records(ShardIterator=state["iterator"], Limit=1000)
            state["iterator"] = response["NextShardIterator"]
            for record in response["Records"]:
                state["position"] = int(record["dynamodb"]["SequenceNumber"]) + 1
            state["read"] += len(response["Records"])
            if not response["Records"]:
                return

    return state, read


def measure(transactions: int = TRANSACTIONS, preload: int = PRELOAD, checkpoint: int = CHECKPOINT) -> Figures:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from local.infra import create_resources
    from local.moto_fixes import trim_stream

    with mock_aws():
        session = boto3.Session(region_name="eu-west-1")
        resources = create_resources(session, stage="bench")
        dynamodb = session.client("dynamodb")
        streams = session.client("dynamodbstreams")
        name = resources.table_name
        table = dynamodb_backends["123456789012"]["eu-west-1"].tables[name]
        for i in range(preload):
            dynamodb.put_item(
                TableName=name,
                Item={"pk": {"S": f"CUST#{i}"}, "sk": {"S": "PROFILE"}, "name": {"S": f"C {i}"}, "n": {"N": "0"}},
            )
        state, read = _reader(streams, resources.stream_arn)
        read()
        trim_stream(table, state["position"])
        cancelled = 0
        tracemalloc.start()
        started = time.perf_counter()
        first_ms = memory_checkpoint = 0.0
        for i in range(transactions):
            event = i // 2  # every second transaction replays the one before it
            customer = f"CUST#{event % preload}"
            try:
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": name,
                                "Item": {"pk": {"S": f"SHOPEVENT#{event}"}, "sk": {"S": "CLAIM"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": name,
                                "Key": {"pk": {"S": customer}, "sk": {"S": "PROFILE"}},
                                "UpdateExpression": "ADD n :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        },
                    ]
                )
            except dynamodb.exceptions.TransactionCanceledException:
                cancelled += 1
            if i % 10 == 9:  # the runtime's consumers poll between requests
                read()
                trim_stream(table, state["position"])
            if i + 1 == checkpoint:
                first_ms = (time.perf_counter() - started) * 1000 / checkpoint
                memory_checkpoint = tracemalloc.get_traced_memory()[0] / 1024
                last_started = time.perf_counter()
        last_ms = (time.perf_counter() - last_started) * 1000 / (transactions - checkpoint)
        read()
        trim_stream(table, state["position"])
        memory_end, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return Figures(
            transactions=transactions,
            cancelled=cancelled,
            stream_records_read=state["read"],
            first_ms_per_txn=round(first_ms, 3),
            last_ms_per_txn=round(last_ms, 3),
            memory_at_checkpoint_kb=round(memory_checkpoint, 1),
            memory_at_end_kb=round(memory_end / 1024, 1),
            peak_kb=round(peak / 1024, 1),
        )


def run() -> None:
    figures = measure()
    for key, value in vars(figures).items():
        print(f"  {key:28} {value}")

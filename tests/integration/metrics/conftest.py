"""Shared pieces of the metrics integration tests (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from engage.metrics.counters import add_up


@pytest.fixture
def counters(aws):
    from engage import wiring

    return wiring.metrics.counters()


def campaign_counts(campaign_id: str = "cmp_1") -> dict[str, int]:
    from engage import wiring

    return {k: v for k, v in add_up(wiring.metrics.counters().campaign_rows(campaign_id)).items() if v}


def day_counts(day: str = "2026-11-23") -> dict[str, int]:
    from engage import wiring

    return {k: v for k, v in add_up(wiring.metrics.counters().daily_rows(day, day)).items() if v}


@pytest.fixture
def quiet_stream(aws) -> None:
    """Re-creates the table without its stream, for tests that feed stream events by hand.

    moto keeps every stream record inside the table object and deep-copies the whole table on
    each transaction, so with the stream on a test's cost grows with the square of its writes
    (and moto cannot turn a stream off: update_table leaves a broken shard behind).
    """
    import boto3

    from engage import wiring

    client = boto3.client("dynamodb", region_name="eu-west-1")
    table = client.describe_table(TableName=aws.table_name)["Table"]
    client.delete_table(TableName=aws.table_name)
    client.create_table(
        TableName=aws.table_name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
            for g in table["GlobalSecondaryIndexes"]
        ],
    )
    wiring.reset()


@pytest.fixture
def serialized_moto(quiet_stream, serialized_dynamodb) -> Any:
    """DynamoDB calls serialised between threads (see tests/conftest.py), with the stream quiet."""
    return serialized_dynamodb


def seed(campaign_id: str | None, day: str, *, variant: str = "A", segment_id: str = "-", **counts: int) -> None:
    """Adds counts straight to the counter items (one transaction), as many counted sends would."""
    from collections import Counter

    from engage import wiring
    from engage.core.time import parse_iso

    store = wiring.metrics.counters()
    actions = store.counter_updates(
        campaign_id=campaign_id, variant=variant, segment_id=segment_id, day=day, shard=len(counts) % store.shards,
        attributes=Counter(counts),
    )  # fmt: skip
    assert store.transact(actions) == []
    if campaign_id:
        store.note_active(campaign_id, day, parse_iso(f"{day}T08:00:00Z"))

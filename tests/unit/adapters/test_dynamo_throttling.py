"""DynamoDB throttling: botocore retries throttled calls (our SDK config), the Table re-sends
`UnprocessedItems`/`UnprocessedKeys` with bounded, jittered backoff. No network: botocore's Stubber
for the batch calls, a `before-send` hook answering like DynamoDB for the retry config."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from engage.adapters.dynamo.table import SDK_CONFIG, Backoff, Table
from engage.core.errors import StorageError

THROTTLING = ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def stubbed_table(attempts: int = 8) -> tuple[Table, Stubber, Sleeps]:
    resource = boto3.resource(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x", config=SDK_CONFIG
    )
    sleeps = Sleeps()
    table = Table(resource.Table("engage"), backoff=Backoff(attempts=attempts, sleep=sleeps, rand=lambda: 1.0))
    return table, Stubber(resource.meta.client), sleeps


def put(pk: str) -> dict:
    return {"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"S": "X"}}}}


def test_unprocessed_items_are_written_again_with_growing_waits_until_none_are_left():
    # Given DynamoDB leaves two, then one of three items unprocessed (throttled inside a 200)
    table, stub, sleeps = stubbed_table()
    stub.add_response("batch_write_item", {"UnprocessedItems": {"engage": [put("B"), put("C")]}})
    stub.add_response("batch_write_item", {"UnprocessedItems": {"engage": [put("C")]}})
    stub.add_response(
        "batch_write_item",
        {"UnprocessedItems": {}},
        {"RequestItems": {"engage": [{"PutRequest": {"Item": {"pk": "C", "sk": "X"}}}]}},
    )  # only the leftovers are re-sent
    # When the table writes them
    with stub:
        written = table.batch_put({"pk": pk, "sk": "X"} for pk in "ABC")
        stub.assert_no_pending_responses()
    # Then every item is written, after backoff that grows (full jitter: rand() * base * 2^n)
    assert written == 3
    assert sleeps.waits == [0.1, 0.2]


def test_unprocessed_keys_are_read_again_and_the_items_of_every_round_kept():
    table, stub, sleeps = stubbed_table()
    key = {"pk": {"S": "B"}, "sk": {"S": "X"}}
    stub.add_response(
        "batch_get_item",
        {
            "Responses": {"engage": [{"pk": {"S": "A"}, "sk": {"S": "X"}}]},
            "UnprocessedKeys": {"engage": {"Keys": [key], "ConsistentRead": True}},
        },
    )
    stub.add_response(
        "batch_get_item", {"Responses": {"engage": [{"pk": {"S": "B"}, "sk": {"S": "X"}, "n": {"N": "2"}}]}}
    )
    with stub:
        found = table.batch_get([("A", "X"), ("B", "X")])
    assert sorted(i["pk"] for i in found) == ["A", "B"] and len(sleeps.waits) == 1


def test_a_batch_that_stays_throttled_fails_loudly_after_the_bounded_retries():
    table, stub, sleeps = stubbed_table(attempts=3)
    for _ in range(4):
        stub.add_response("batch_write_item", {"UnprocessedItems": {"engage": [put("A")]}})
    with stub, pytest.raises(StorageError, match="unprocessed after 3 retries"):
        table.batch_put([{"pk": "A", "sk": "X"}])
    assert len(sleeps.waits) == 3


@given(st.integers(1, 40), st.floats(0, 1))
def test_backoff_waits_are_jittered_and_never_above_the_cap(attempt, r):
    sleeps = Sleeps()
    backoff = Backoff(attempts=40, base=0.05, cap=2.0, sleep=sleeps, rand=lambda: r)
    backoff.wait(attempt, "x")
    assert 0 <= sleeps.waits[0] <= 2.0
    assert sleeps.waits[0] == pytest.approx(r * min(2.0, 0.05 * 2**attempt))


def test_batches_hold_at_most_25_writes_and_duplicate_keys_keep_the_last():
    table, stub, _ = stubbed_table()
    for _ in range(2):
        stub.add_response("batch_write_item", {"UnprocessedItems": {}})
    with stub:
        assert table.batch_put([{"pk": f"P{i}", "sk": "X"} for i in range(30)]) == 30
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("code", THROTTLING)
def test_throttled_calls_are_retried_by_botocore_with_our_config(code, monkeypatch):
    # Given a resource built with our SDK config, and DynamoDB answering "throttled" twice
    resource = boto3.resource(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x", config=SDK_CONFIG
    )
    client = resource.meta.client
    calls: list[int] = []

    def answer(request, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "slow down"})
            return AWSResponse(request.url, 400, {"x-amzn-requestid": "r"}, _Raw(body.encode()))
        return AWSResponse(request.url, 200, {"x-amzn-requestid": "r"}, _Raw(b"{}"))

    client.meta.events.register("before-send.dynamodb", answer)
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    # When the table reads an item
    assert Table(resource.Table("engage")).get("P", "S") is None
    # Then botocore retried the throttled calls itself (standard mode), and the third answer counted
    assert len(calls) == 3 and len(slept) == 2 and all(0 <= s <= 20 for s in slept)
    assert client.meta.config.retries["total_max_attempts"] == 5


class _Raw:
    """The raw body botocore reads from an AWSResponse."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs):
        yield self.data

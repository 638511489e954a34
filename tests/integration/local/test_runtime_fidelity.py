"""The local runtime stays faithful over a long session: cancelled transactions, memory, settings, the clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.runtime import LocalRuntime

ACCESS = {"authorization": "Bearer local-access-token"}
MESSAGES = "/_fake/graph/v25.0/1234567890/messages"


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.behaviour: Any = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(json.loads(json.dumps(event)))
        if self.behaviour is not None:
            return self.behaviour(event)
        return {"statusCode": 200, "body": "{}"}

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for e in self.events for r in e.get("Records", [])]


# ------------------------------------------------------------------ cancelled transactions


def shop_event(event_id: str, wa_id: str = "4915123456789") -> tuple[bytes, dict[str, str]]:
    from engage.inbound.shop_events import SIGNATURE_HEADER, signature

    body = {
        "id": event_id,
        "type": "link_clicked",
        "occurred_at": "2026-11-23T10:00:00Z",
        "customer": {"wa_id": wa_id},
        "data": {"url": "https://shop.example/p/scarf", "label": "Silk scarf"},
    }
    raw = json.dumps(body).encode()
    return raw, {"content-type": "application/json", SIGNATURE_HEADER: signature("local-events-secret", raw)}


def images(records: list[dict[str, Any]]) -> str:
    return json.dumps([r["dynamodb"].get("NewImage", {}) for r in records])


def test_a_duplicate_shop_event_does_not_stall_the_stream_consumers():
    # Given the real API and a tagger that records what the stream brings it
    tagger = Recorder()
    with LocalRuntime(handlers={"TaggerFunction": tagger}) as runtime, httpx.Client(base_url=runtime.url) as http:
        raw, headers = shop_event("click-1")
        assert http.post("/v1/events", content=raw, headers=headers).status_code in (200, 202)
        runtime.drain()
        assert "click-1" in images(tagger.records)
        # When the shop sends the same event again (its claim's transaction is cancelled)
        replay = http.post("/v1/events", content=raw, headers=headers)
        assert replay.status_code in (200, 202) and replay.json()["duplicate"] is True
        before = len(tagger.records)
        runtime.drain()
        assert "click-1" not in images(tagger.records[before:])  # a cancelled transaction writes no record
        # Then a new event still reaches the tagger
        raw, headers = shop_event("click-2")
        assert http.post("/v1/events", content=raw, headers=headers).status_code in (200, 202)
        runtime.drain()
        assert "click-2" in images(tagger.records)


OP = st.tuples(st.sampled_from(["put", "update", "delete", "check"]), st.integers(0, 5), st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transactions=st.lists(st.lists(OP, min_size=1, max_size=4), min_size=1, max_size=8))
def test_every_transaction_commits_whole_or_leaves_table_and_stream_untouched(aws, transactions):
    """Generated transactions, some cancelled by a failing condition: the table matches a model that
    applies only the committed ones, the stream carries exactly their writes, and a reader that
    started before the first one keeps reading the same stream throughout."""
    from moto.dynamodb.models import dynamodb_backends

    from engage import wiring

    client = boto3.client("dynamodb", region_name="eu-west-1")
    streams = boto3.client("dynamodbstreams", region_name="eu-west-1")
    name = wiring.aws.table_settings().table
    table = dynamodb_backends["123456789012"]["eu-west-1"].tables[name]
    prefix = f"T#{id(transactions)}#"
    arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    model: dict[int, int] = {}
    expected_writes = 0
    for ops in transactions:
        seen: set[int] = set()
        items, after, writes, fails = [], dict(model), 0, False
        for kind, key, holds in ops:
            if key in seen:
                continue
            seen.add(key)
            pk = {"pk": {"S": f"{prefix}{key}"}, "sk": {"S": "X"}}
            exists = "attribute_exists(pk)" if holds == (key in model) else "attribute_not_exists(pk)"
            fails = fails or not holds
            if kind == "put":
                put = {"TableName": name, "Item": {**pk, "n": {"N": "0"}}, "ConditionExpression": exists}
                items.append({"Put": put})
                after[key], writes = 0, writes + 1
            elif kind == "update":
                items.append(
                    {
                        "Update": {
                            "TableName": name,
                            "Key": pk,
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                            "ConditionExpression": exists,
                        }
                    }
                )
                # moto writes an update that creates its item as an INSERT and then a MODIFY
                after[key], writes = after.get(key, 0) + 1, writes + (1 if key in after else 2)
            elif kind == "delete":
                items.append({"Delete": {"TableName": name, "Key": pk, "ConditionExpression": exists}})
                writes += 1 if key in after else 0
                after.pop(key, None)
            else:
                items.append({"ConditionCheck": {"TableName": name, "Key": pk, "ConditionExpression": exists}})
        try:
            client.transact_write_items(TransactItems=items)
            assert not fails
            model, expected_writes = after, expected_writes + writes
        except client.exceptions.TransactionCanceledException:
            assert fails
        assert dynamodb_backends["123456789012"]["eu-west-1"].tables[name] is table  # never replaced
        stored = {}
        for key in range(6):
            found = client.get_item(TableName=name, Key={"pk": {"S": f"{prefix}{key}"}, "sk": {"S": "X"}}).get("Item")
            if found:
                stored[key] = int(found["n"]["N"])
        assert stored == model
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    assert len(records) == expected_writes


def test_memory_and_time_stay_flat_over_many_transactions():
    """A long session of shop-event-like transactions (half of them cancelled replays) on a table of
    300 customers, with a stream reader as the runtime's: memory grows only by what was committed."""
    from bench.local_transactions import measure

    figures = measure(transactions=300, preload=300, checkpoint=100)
    assert figures.cancelled == 150 and figures.stream_records_read == 300 + 2 * 150
    grown_per_transaction_kb = (figures.memory_at_end_kb - figures.memory_at_checkpoint_kb) / 200
    # about 1.5 KB: the committed claim items; moto's own rollback kept a table copy per transaction (3 MB here)
    assert grown_per_transaction_kb < 4.0, figures


def test_consumed_stream_records_are_trimmed_and_the_consumers_go_on():
    tagger = Recorder()
    with LocalRuntime(handlers={"TaggerFunction": tagger}) as runtime, httpx.Client(base_url=runtime.url) as http:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"]["eu-west-1"].tables[runtime.resources.table_name]
        for n in range(3):
            raw, headers = shop_event(f"trim-{n}")
            http.post("/v1/events", content=raw, headers=headers)
            runtime.drain()
            assert table.stream_shard.items == []  # every consumer has read everything
        assert all(f"trim-{n}" in images(tagger.records) for n in range(3))


# ------------------------------------------------------------------------------ settings


class GraphRecorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        answer = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.real-1"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def real_graph() -> Iterator[str]:
    GraphRecorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), GraphRecorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v25.0"
    server.shutdown()
    server.server_close()


def test_settings_come_from_the_environment_when_set_else_the_local_values():
    runtime = LocalRuntime.from_environment(
        {"WHATSAPP_ACCESS_TOKEN": "EAAG-test", "ENGAGE_DEFAULT_COUNTRY": "DE", "WHATSAPP_VERIFY_TOKEN": "", "PATH": "/"}
    )
    assert runtime.secrets["WHATSAPP_ACCESS_TOKEN"] == "EAAG-test"
    assert runtime.secrets["WHATSAPP_VERIFY_TOKEN"] == "local-verify-token"  # empty counts as unset
    assert runtime.secrets["ENGAGE_MARKETER_TOKEN"] == "local-marketer-token"
    assert runtime.phone_number_id == "1234567890" and runtime.api_base is None
    assert runtime.environment == {"ENGAGE_DEFAULT_COUNTRY": "DE"}


def test_a_runtime_pointed_at_a_real_number_sends_there_with_its_settings(real_graph):
    environ = {
        "WHATSAPP_APP_SECRET": "tunnel-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "tunnel-verify",
        "WHATSAPP_ACCESS_TOKEN": "EAAG-test-token",
        "WHATSAPP_PHONE_NUMBER_ID": "109876543210",
        "WHATSAPP_API_BASE": real_graph,
        "EVENTS_WEBHOOK_SECRET": "tunnel-events",
        "ENGAGE_ADMIN_TOKEN": "tunnel-admin",
        "ENGAGE_MARKETER_TOKEN": "tunnel-marketer",
        "ENGAGE_DEFAULT_COUNTRY": "DE",
    }
    with LocalRuntime.from_environment(environ) as runtime, httpx.Client(base_url=runtime.url) as http:
        import os

        from engage import wiring
        from engage.delivery.outbound import Outbound

        assert {k: os.environ[k] for k in environ} == environ  # what the handlers read
        assert http.get("/_local").json()["whatsapp_api_base"] == real_graph
        # The handlers' WhatsApp client sends to the configured API, not the fake
        result = wiring.delivery.whatsapp().send(Outbound(to="4915123456789", kind="text", text="Hallo"))
        assert result.error is None
        path, headers, body = GraphRecorder.requests[-1]
        assert path == "/v25.0/109876543210/messages"
        assert headers["authorization"] == "Bearer EAAG-test-token" and body["to"] == "4915123456789"
        assert http.get("/_local/outbox").json()["messages"] == []
        # The tokens and secrets are the configured ones
        verify = {"hub.mode": "subscribe", "hub.verify_token": "tunnel-verify", "hub.challenge": "42"}
        assert http.get("/webhook", params=verify).text == "42"
        assert http.get("/v1/tags", headers={"authorization": "Bearer tunnel-marketer"}).status_code == 200
        assert http.get("/v1/tags", headers={"authorization": "Bearer local-marketer-token"}).status_code == 401


# --------------------------------------------------------------------------------- clock


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[LocalRuntime, dict[str, Recorder]]]:
    recorders = {"WebhookFunction": Recorder(), "SchedulerFunction": Recorder()}
    with LocalRuntime(handlers=dict(recorders)) as runtime:
        yield runtime, recorders


@pytest.fixture
def moved(clocked) -> Iterator[tuple[LocalRuntime, dict[str, Recorder], httpx.Client]]:
    runtime, recorders = clocked
    with httpx.Client(base_url=runtime.url, timeout=30) as http:
        assert http.post("/_local/clock", params={"now": "2030-01-07T10:00:00Z"}).status_code == 200
        try:
            yield runtime, recorders, http
        finally:
            http.delete("/_local/clock")
            http.delete("/_local/whatsapp/faults")
            http.post("/_local/whatsapp/behaviour", json={"read_rate": 0.7, "reply_rate": 0.2, "deliver": True})
            for recorder in recorders.values():
                recorder.events.clear()
                recorder.behaviour = None


MOVED = int(datetime(2030, 1, 7, 10, 0, tzinfo=UTC).timestamp())


def webhook_values(recorder: Recorder) -> list[dict[str, Any]]:
    return [json.loads(e["body"])["entry"][0]["changes"][0]["value"] for e in recorder.events]


def test_the_fakes_statuses_and_replies_carry_the_moved_time(moved):
    runtime, recorders, http = moved
    http.post("/_local/whatsapp/behaviour", json={"read_rate": 1.0, "reply_rate": 1.0})
    body = {"messaging_product": "whatsapp", "to": "4915123456789", "type": "text", "text": {"body": "Hi"}}
    assert http.post(MESSAGES, json=body, headers=ACCESS).status_code == 200
    http.post("/_local/drain")
    values = webhook_values(recorders["WebhookFunction"])
    stamps = [int(v["statuses"][0]["timestamp"]) for v in values if "statuses" in v]
    stamps += [int(v["messages"][0]["timestamp"]) for v in values if "messages" in v]
    assert len(stamps) == 4 and all(MOVED <= s < MOVED + 120 for s in stamps)
    sent = next(v["statuses"][0] for v in values if "statuses" in v)
    assert MOVED + 86400 <= int(sent["conversation"]["expiration_timestamp"]) < MOVED + 86400 + 120
    assert http.get("/_local/outbox").json()["messages"][-1]["sent_at"].startswith("2030-01-07T10:0")


def test_an_asynchronous_failure_under_a_moved_clock_is_as_late_as_the_send(moved):
    runtime, recorders, http = moved
    http.post("/_local/whatsapp/faults", json={"code": 131050, "to": "4915144444444", "async": True})
    body = {"messaging_product": "whatsapp", "to": "4915144444444", "type": "text", "text": {"body": "Hi"}}
    http.post(MESSAGES, json=body, headers=ACCESS)
    http.post("/_local/drain")
    status = webhook_values(recorders["WebhookFunction"])[-1]["statuses"][0]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131050
    assert MOVED <= int(status["timestamp"]) < MOVED + 120


def test_a_schedule_run_without_now_runs_at_the_moved_time(moved):
    runtime, recorders, http = moved
    recorders["SchedulerFunction"].behaviour = lambda event: {"at": event["now"]}
    response = http.post("/_local/schedules/lifecycle-pass")
    assert response.status_code == 200 and response.json()["at"].startswith("2030-01-07T10:0")
    assert response.headers["x-engage-scheduled-time"].startswith("2030-01-07T10:0")
    assert runtime.run_schedule("segment-sizes")["at"].startswith("2030-01-07T10:0")


def test_background_schedules_follow_a_moved_clock_forward_and_back(clocked):
    runtime, recorders = clocked
    recorders["SchedulerFunction"].behaviour = lambda event: {"ok": True}
    real = datetime(2026, 11, 23, 9, 0, 10, tzinfo=UTC)
    runtime.arm_schedules(real)
    try:
        # The clock jumps a week ahead: nothing fires at the old times; the schedules re-arm from the moved time,
        # except the weekly tag health, whose Monday 03:00 run is due less than a period before the moved time
        ahead = real + timedelta(days=7)
        assert runtime.tick(ahead) == [("tag-health", datetime(2026, 11, 30, 3, 0, tzinfo=UTC))]
        recorders["SchedulerFunction"].events.clear()
        release = runtime.schedule("release-deferred")
        assert release is not None and release.next_fire is not None and ahead < release.next_fire
        # ... and fire at the moved time as it goes on
        fired = runtime.tick(release.next_fire + timedelta(seconds=1))
        assert fired and all(at >= ahead for _, at in fired)
        assert all(e["now"] >= "2026-11-30T09:00" for e in recorders["SchedulerFunction"].events)
        # The clock goes back: the schedules re-arm from there instead of waiting a week
        back = real + timedelta(hours=1)
        runtime.tick(back)
        assert release.next_fire is not None and back < release.next_fire <= back + timedelta(hours=1)
    finally:
        runtime.arm_schedules(datetime.now(UTC))
        recorders["SchedulerFunction"].events.clear()

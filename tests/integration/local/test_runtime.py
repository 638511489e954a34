"""The local runtime's own behaviour, with stand-in handlers registered for every function.

The real handlers are exercised over HTTP in tests/e2e; here tiny recorders stand in for them so each
platform behaviour (routing, auth, SQS retries and redrive, stream shapes and filters, schedules,
the fake WhatsApp) is checked on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import httpx
import pytest

from local.runtime import LocalRuntime
from local.scheduling import Cron, Schedule
from tests.conftest import ADMIN_TOKEN, MARKETER_TOKEN, WHATSAPP_APP_SECRET

FUNCTIONS = [
    "WebhookFunction",
    "ApiFunction",
    "TaggerFunction",
    "MetricsFunction",
    "DispatcherFunction",
    "SenderFunction",
    "SchedulerFunction",
]
ACCESS = {"authorization": "Bearer local-access-token"}
MESSAGES = "/_fake/graph/v25.0/1234567890/messages"


class Recorder:
    """Stands in for one function: records events, answers with `behaviour(event)` (default: echo)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.behaviour: Callable[[dict[str, Any]], Any] | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        assert context.function_name.startswith("engage-local-")
        self.events.append(json.loads(json.dumps(event)))
        if self.behaviour is not None:
            return self.behaviour(event)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for e in self.events for r in e.get("Records", [])]


@pytest.fixture(scope="module")
def recorders() -> dict[str, Recorder]:
    return {name: Recorder() for name in FUNCTIONS}


@pytest.fixture(scope="module")
def runtime(recorders: dict[str, Recorder]) -> Iterator[LocalRuntime]:
    with LocalRuntime(handlers=dict(recorders)) as started:
        yield started


@pytest.fixture
def client(runtime: LocalRuntime, recorders: dict[str, Recorder]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runtime.url, timeout=30) as http:
        yield http
        # Leave nothing behind for the next test.
        http.delete("/_local/whatsapp/faults")
        http.post("/_local/whatsapp/behaviour", json={"read_rate": 0.7, "reply_rate": 0.2, "deliver": True})
        for recorder in recorders.values():
            recorder.behaviour = None
        http.post("/_local/drain")
        http.delete("/_local/outbox")
        for recorder in recorders.values():
            recorder.events.clear()


def sqs(runtime: LocalRuntime) -> Any:
    return runtime.session.client("sqs")


def queue_size(runtime: LocalRuntime, logical: str) -> int:
    attributes = sqs(runtime).get_queue_attributes(
        QueueUrl=runtime.resources.queues[logical],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def purge(runtime: LocalRuntime, logical: str) -> list[dict[str, Any]]:
    url = runtime.resources.queues[logical]
    found = []
    while True:
        got = sqs(runtime).receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return found
        for message in got:
            found.append(json.loads(message["Body"]))
            sqs(runtime).delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# ------------------------------------------------------------------------------------------- HTTP


def test_route_with_path_parameter_gets_a_payload_2_event_with_marketer_claims(client, recorders):
    # When a marketer calls a parameterised route with a query, duplicate headers and a cookie
    response = client.get(
        "/v1/customers/4915123456789?fields=a&fields=b&x=1",
        headers=[
            ("authorization", f"Bearer {MARKETER_TOKEN}"),
            ("X-Dup", "one"),
            ("X-Dup", "two"),
            ("Cookie", "a=1; b=2"),
        ],
    )
    # Then the api function receives the event API Gateway would build
    assert response.status_code == 200
    event = recorders["ApiFunction"].events[-1]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v1/customers/{ref}"
    assert event["rawPath"] == "/v1/customers/4915123456789"
    assert event["rawQueryString"] == "fields=a&fields=b&x=1"
    assert event["queryStringParameters"] == {"fields": "a,b", "x": "1"}
    assert event["pathParameters"] == {"ref": "4915123456789"}
    assert event["headers"]["x-dup"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    context = event["requestContext"]
    assert context["stage"] == "$default"
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/v1/customers/4915123456789"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["authorizer"]["jwt"]["claims"]["cognito:groups"] == "[marketer]"
    assert isinstance(context["timeEpoch"], int) and context["requestId"]
    assert event["isBase64Encoded"] is False and "body" not in event


def test_admin_token_becomes_the_admin_group(client, recorders):
    client.post("/v1/tags", json={"name": "vip"}, headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    event = recorders["ApiFunction"].events[-1]
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] == "[admin]"
    assert json.loads(event["body"]) == {"name": "vip"}


def test_literal_route_beats_parameter_route(client, recorders):
    client.get("/v1/tags/health", headers={"authorization": f"Bearer {MARKETER_TOKEN}"})
    client.get("/v1/tags/interest:price", headers={"authorization": f"Bearer {MARKETER_TOKEN}"})
    keys = [e["routeKey"] for e in recorders["ApiFunction"].events]
    assert keys == ["GET /v1/tags/health", "GET /v1/tags/{name}"]
    assert recorders["ApiFunction"].events[-1]["pathParameters"] == {"name": "interest:price"}


def test_protected_route_without_a_known_token_is_401_like_api_gateway(client, recorders):
    for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": f"Basic {MARKETER_TOKEN}"}):
        response = client.get("/v1/customers/1", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}
    assert recorders["ApiFunction"].events == []


def test_unknown_route_or_method_is_404_like_api_gateway(client):
    assert client.get("/nowhere").json() == {"message": "Not Found"}
    assert client.put("/webhook").status_code == 404
    assert client.post("/v1/customers").status_code == 401  # exists, so auth is checked first


def test_open_routes_need_no_token_and_carry_no_claims(client, recorders):
    client.get("/r/Ab3xK9", headers={"authorization": f"Bearer {MARKETER_TOKEN}"})
    client.get("/webhook", params={"hub.mode": "subscribe"})
    api_event = recorders["ApiFunction"].events[-1]
    assert api_event["routeKey"] == "GET /r/{code}" and "authorizer" not in api_event["requestContext"]
    assert recorders["WebhookFunction"].events[-1]["queryStringParameters"] == {"hub.mode": "subscribe"}


def test_binary_body_is_base64_and_text_body_is_kept_verbatim(client, recorders):
    raw = '{"b": 1,  "a": "ü"}'.encode()
    client.post("/webhook", content=raw, headers={"content-type": "application/json"})
    client.post("/webhook", content=b"\x00\xff", headers={"content-type": "application/octet-stream"})
    text_event, binary_event = recorders["WebhookFunction"].events[-2:]
    assert text_event["body"].encode() == raw and text_event["isBase64Encoded"] is False
    assert binary_event["isBase64Encoded"] is True and base64.b64decode(binary_event["body"]) == b"\x00\xff"


def test_handler_responses_are_mapped_like_api_gateway(client, recorders):
    recorders["ApiFunction"].behaviour = lambda event: {"hello": "world"}
    bare = client.get("/r/x")
    assert (bare.status_code, bare.json()) == (200, {"hello": "world"})
    assert bare.headers["content-type"] == "application/json"

    recorders["ApiFunction"].behaviour = lambda event: {
        "statusCode": 302,
        "headers": {"Location": "https://shop.example/p?utm_source=whatsapp"},
        "cookies": ["seen=1; Path=/", "ref=abc"],
        "body": "",
    }
    redirect = client.get("/r/x", follow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["location"].startswith("https://shop.example/")
    assert redirect.headers.get_list("set-cookie") == ["seen=1; Path=/", "ref=abc"]

    recorders["ApiFunction"].behaviour = lambda event: {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    assert client.get("/r/x").content == b"\x89PNG"

    def boom(event: dict) -> Any:
        raise RuntimeError("bug")

    recorders["ApiFunction"].behaviour = boom
    failed = client.get("/r/x")
    assert (failed.status_code, failed.json()) == (500, {"message": "Internal Server Error"})


# -------------------------------------------------------------------------------------------- SQS


def test_sqs_partial_batch_failure_redelivers_only_failed_records_then_dead_letters_them(runtime, client, recorders):
    # Given five send jobs, two of which the sender always reports as failed
    url = runtime.resources.queues["SendQueue"]
    for n in range(5):
        sqs(runtime).send_message(QueueUrl=url, MessageBody=json.dumps({"n": n, "fail": n in (1, 3)}))

    def sender(event: dict) -> dict:
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["fail"]]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    recorders["SenderFunction"].behaviour = sender
    # When the runtime drains
    report = client.post("/_local/drain").json()
    # Then the good jobs ran once, the failed ones maxReceiveCount (5) times, and the DLQ holds them
    seen: dict[int, list[int]] = {}
    for record in recorders["SenderFunction"].records:
        receives = int(record["attributes"]["ApproximateReceiveCount"])
        seen.setdefault(json.loads(record["body"])["n"], []).append(receives)
    assert seen[0] == seen[2] == seen[4] == [1]
    assert seen[1] == seen[3] == [1, 2, 3, 4, 5]
    assert report["idle"] is True
    assert report["consumers"]["SenderFunction/SendJobs"]["failed"] == 10
    assert queue_size(runtime, "SendQueue") == 0
    assert sorted(job["n"] for job in purge(runtime, "SendDLQ")) == [1, 3]


def test_sqs_event_has_the_lambda_shape_and_batch_size_from_the_template(runtime, client, recorders):
    url = runtime.resources.queues["SendQueue"]
    sqs(runtime).send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(10)]
    )
    sqs(runtime).send_message(
        QueueUrl=url,
        MessageBody="{}",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "job"}},
    )
    client.post("/_local/drain")
    batches = [e["Records"] for e in recorders["SenderFunction"].events]
    assert all(len(b) <= 10 for b in batches) and sum(len(b) for b in batches) == 11
    record = recorders["SenderFunction"].records[-1]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":engage-local-send")
    assert record["awsRegion"] == "eu-west-1"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
    assert {"ApproximateReceiveCount", "SentTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["stringValue"] == "job"
    assert record["receiptHandle"] and record["messageId"]


def test_a_backoff_the_handler_sets_is_kept_and_the_drain_waits_for_it(runtime, client, recorders):
    # Given a sender that backs a job off by 1 s (ChangeMessageVisibility) the first time it sees it
    url = runtime.resources.queues["SendQueue"]
    sqs(runtime).send_message(QueueUrl=url, MessageBody=json.dumps({"n": "backoff"}))
    seen: list[tuple[int, float]] = []

    def sender(event: dict) -> dict:
        record = event["Records"][0]
        seen.append((int(record["attributes"]["ApproximateReceiveCount"]), time.monotonic()))
        if len(seen) > 1:
            return {"batchItemFailures": []}
        handler_sqs = boto3.client("sqs", region_name="eu-west-1")
        handler_sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=1)
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    recorders["SenderFunction"].behaviour = sender
    # When the runtime drains
    report = client.post("/_local/drain").json()
    # Then the retry came after the handler's delay, not at once, and the drain waited for it
    assert [count for count, _ in seen] == [1, 2]
    assert seen[1][1] - seen[0][1] >= 0.9
    # (how long it slept depends on how long the first delivery took, so only that it waited)
    assert report["idle"] is True and report["waited_ms"] > 0


def test_a_raised_exception_fails_the_whole_batch(runtime, client, recorders):
    url = runtime.resources.queues["PassQueue"]
    sqs(runtime).send_message(QueueUrl=url, MessageBody=json.dumps({"job": "page", "n": 1}))
    calls = []

    def flaky(event: dict) -> dict:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("first try fails")
        return {"batchItemFailures": []}

    recorders["SchedulerFunction"].behaviour = flaky
    report = client.post("/_local/drain").json()
    assert len(calls) == 2
    assert report["consumers"]["SchedulerFunction/LifecyclePassPages"]["errors"] == 1
    assert queue_size(runtime, "PassQueue") == 0


# ---------------------------------------------------------------------------------------- streams


def test_stream_consumers_get_insert_modify_remove_in_lambda_shape_through_their_filters(runtime, client, recorders):
    # Given writes to an event item and a send item: insert, modify, remove
    table = runtime.session.resource("dynamodb").Table(runtime.resources.table_name)
    for sk in ("EVT#2026-11-23T10:00:00Z#message#wamid.1", "SEND#camp1"):
        table.put_item(Item={"pk": "CUST#c_stream", "sk": sk, "state": "intent", "n": 1})
        table.update_item(
            Key={"pk": "CUST#c_stream", "sk": sk},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":s": "sent"},
        )
        table.delete_item(Key={"pk": "CUST#c_stream", "sk": sk})
    # When the runtime drains
    client.post("/_local/drain")
    # Then the tagger saw only the INSERT of the EVT# item (its filter) ...
    tagged = recorders["TaggerFunction"].records
    assert [(r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"][:4]) for r in tagged] == [("INSERT", "EVT#")]
    # ... and metrics saw every change of the SEND# item, with old and new images
    changes = recorders["MetricsFunction"].records
    assert [r["eventName"] for r in changes] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = changes
    assert insert["dynamodb"]["NewImage"]["state"] == {"S": "intent"} and "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["state"] == {"S": "intent"}
    assert modify["dynamodb"]["NewImage"]["state"] == {"S": "sent"}
    assert remove["dynamodb"]["OldImage"]["n"] == {"N": "1"} and "NewImage" not in remove["dynamodb"]
    for record in changes:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == runtime.resources.stream_arn
        assert record["awsRegion"] == "eu-west-1"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "CUST#c_stream"}, "sk": {"S": "SEND#camp1"}}
        assert record["dynamodb"]["SequenceNumber"] and record["dynamodb"]["SizeBytes"] > 0


def test_reading_the_stream_in_process_gives_the_records_get_records_gives(runtime, client):
    from local.consumers import StreamConsumer

    # Given writes with every kind of value, after earlier drains trimmed the stream
    client.post("/_local/drain")
    table = runtime.session.resource("dynamodb").Table(runtime.resources.table_name)
    item = {
        "pk": "CUST#c_same",
        "sk": "SEND#same",
        "blob": b"\x00\xffbytes",
        "tags": {"a", "b"},
        "nums": {1, 2},
        "nested": {"list": [1, "x", {"deep": True}], "bin": b"\x01", "none": None},
    }
    table.put_item(Item=item)
    table.update_item(
        Key={"pk": "CUST#c_same", "sk": "SEND#same"}, UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": 2}
    )
    table.delete_item(Key={"pk": "CUST#c_same", "sk": "SEND#same"})
    metrics = next(c for c in runtime.stream_consumers if c.name.startswith("MetricsFunction/"))
    start = metrics.position

    def read(direct: bool) -> list[dict[str, Any]]:
        consumer = StreamConsumer(
            name="probe",
            function=metrics.function,
            streams=runtime.session.client("dynamodbstreams"),
            stream_arn=metrics.stream_arn,
            filters=metrics.filters,
            starting_position="AT_SEQUENCE_NUMBER" if not direct else "TRIM_HORIZON",
            direct=metrics.direct if direct else None,
        )
        if direct:
            consumer.position = start
        else:  # GetRecords from the same place
            shard = consumer.streams.describe_stream(StreamArn=consumer.stream_arn)["StreamDescription"]["Shards"][0]
            consumer._iterators[shard["ShardId"]] = consumer.streams.get_shard_iterator(
                StreamArn=consumer.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=str(start),
            )["ShardIterator"]
        consumer._fetch()
        return consumer._pending

    # When the stream is read in-process and through boto3's GetRecords from the same position
    direct, through_boto = read(direct=True), read(direct=False)
    # Then both give the same Lambda records, binary as base64 and sets as lists
    assert [r["eventName"] for r in direct] == ["INSERT", "MODIFY", "REMOVE"]
    assert direct == through_boto
    image = direct[0]["dynamodb"]["NewImage"]
    assert image["blob"] == {"B": base64.b64encode(b"\x00\xffbytes").decode()}
    assert image["nested"]["M"]["bin"] == {"B": base64.b64encode(b"\x01").decode()}


def test_a_filter_on_images_is_judged_on_the_whole_record_and_one_on_keys_on_its_head():
    from local.consumers import _head, keys_only, stream_record
    from local.patterns import compile_filters, passes

    on_keys = compile_filters(
        {
            "Filters": [
                {"Pattern": '{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "EVT#"}]}}}}'}
            ]
        }
    )
    on_image = compile_filters({"Filters": [{"Pattern": '{"dynamodb": {"NewImage": {"kind": {"S": ["order"]}}}}'}]})
    assert keys_only(on_keys) and not keys_only(on_image) and not keys_only([])
    raw = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "dynamodb": {
            "Keys": {"pk": {"S": "CUST#c1"}, "sk": {"S": "EVT#2026-11-23T10:00:00Z#order#1"}},
            "NewImage": {"pk": {"S": "CUST#c1"}, "kind": {"S": "order"}},
            "SequenceNumber": "7",
        },
    }
    whole = stream_record(raw, "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x")
    for event_name in ("INSERT", "MODIFY"):
        raw["eventName"] = whole["eventName"] = event_name
        assert passes(on_keys, _head(raw)) == passes(on_keys, whole)
    assert passes(on_image, whole)


def test_stream_failure_is_a_checkpoint_and_gives_up_to_the_failure_queue(runtime, client, recorders):
    table = runtime.session.resource("dynamodb").Table(runtime.resources.table_name)
    for n in range(3):
        table.put_item(Item={"pk": "CUST#c_ckpt", "sk": f"SEND#k{n}", "n": n})
    # Given a metrics handler that fails the second record once, then the third record always
    attempts: list[list[str]] = []

    def metrics(event: dict) -> dict:
        keys = [r["dynamodb"]["Keys"]["sk"]["S"] for r in event["Records"]]
        attempts.append(keys)
        bad = "SEND#k1" if len(attempts) == 1 else "SEND#k2"
        failed = [r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["dynamodb"]["Keys"]["sk"]["S"] == bad]
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}

    recorders["MetricsFunction"].behaviour = metrics
    client.post("/_local/drain")
    # Then the retry starts at the first failed record, and k2 is given up after MaximumRetryAttempts (5)
    assert attempts[0] == ["SEND#k0", "SEND#k1", "SEND#k2"]
    assert attempts[1] == ["SEND#k1", "SEND#k2"]
    assert attempts[2:] == [["SEND#k2"]] * 5
    failures = purge(runtime, "StreamFailureQueue")
    assert len(failures) == 1
    info = failures[0]["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == runtime.resources.stream_arn
    assert failures[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


# -------------------------------------------------------------------------------------- schedules


def test_schedule_runs_on_demand_with_an_injected_clock(client, recorders):
    recorders["SchedulerFunction"].behaviour = lambda event: {"ran": event["schedule"], "at": event["now"]}
    response = client.post("/_local/schedules/lifecycle-pass", params={"now": "2026-11-23T02:00:00Z"})
    assert response.status_code == 200
    assert response.json() == {"ran": "lifecycle-pass", "at": "2026-11-23T02:00:00Z"}
    assert recorders["SchedulerFunction"].events[-1] == {"schedule": "lifecycle-pass", "now": "2026-11-23T02:00:00Z"}
    offset = client.post("/_local/schedules/metric-alerts", params={"now": "2026-11-23T12:30:00+01:00"})
    assert offset.json() == {"ran": "metric-alerts", "at": "2026-11-23T11:30:00Z"}


def test_unknown_schedule_is_404_listing_the_known_names(client):
    response = client.post("/_local/schedules/nope")
    assert response.status_code == 404
    assert set(response.json()["known"]) == {
        "release-deferred",
        "campaign-tick",
        "metric-alerts",
        "segment-sizes",
        "lifecycle-pass",
        "tag-health",
        "coupon-expiry",
        "group-posts",
        "group-health",
        "journey-sweep",
        "journey-triggers",
        "conversions-post",
    }


def test_due_schedules_fire_at_their_own_time_once(runtime, recorders):
    recorders["SchedulerFunction"].behaviour = lambda event: {"ok": True}
    start = datetime(2026, 11, 23, 1, 59, 30, tzinfo=UTC)
    runtime.arm_schedules(start)
    try:
        fired = runtime.fire_due(datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC))
        assert ("lifecycle-pass", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) in fired
        assert ("release-deferred", datetime(2026, 11, 23, 2, 0, 30, tzinfo=UTC)) not in fired
        assert {"schedule": "lifecycle-pass", "now": "2026-11-23T02:00:00Z"} in recorders["SchedulerFunction"].events
        again = runtime.fire_due(datetime(2026, 11, 23, 2, 0, 6, tzinfo=UTC))
        assert [name for name, _ in again] == []
    finally:
        recorders["SchedulerFunction"].events.clear()


def test_cron_and_rate_expressions_give_the_next_fire_time():
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert Cron.parse("0 2 * * ? *").next_after(monday, ZoneInfo("UTC")) == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    weekly = Cron.parse("0 3 ? * MON *")
    assert weekly.next_after(monday, ZoneInfo("UTC")) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert Cron.parse("*/15 9-17 ? * MON-FRI *").next_after(monday, ZoneInfo("UTC")) == datetime(
        2026, 11, 23, 10, 15, tzinfo=UTC
    )
    berlin = Cron.parse("0 2 * * ? *").next_after(monday, ZoneInfo("Europe/Berlin"))
    assert berlin == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    every_five = Schedule("tick", "SchedulerFunction", "rate(5 minutes)", '{"now": "<aws.scheduler.scheduled-time>"}')
    assert every_five.following(monday) == datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    assert every_five.payload(monday) == {"now": "2026-11-23T10:00:00Z"}


# ---------------------------------------------------------------------------------- fake WhatsApp


def text_message(to: str = "+4915123456789", **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Hello"}, **extra}


def test_fake_whatsapp_needs_the_access_token(client):
    response = client.post(MESSAGES, json=text_message(), headers={"authorization": "Bearer wrong"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 190 and error["type"] == "OAuthException" and error["fbtrace_id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": "4915123456789", "type": "text", "text": {"body": "x"}}, 100),
        (text_message(to=""), 131008),
        (text_message(to="not-a-number"), 100),
        ({"messaging_product": "whatsapp", "to": "4915123456789", "type": "text", "text": {}}, 131008),
        (text_message(type="template", template={"name": "t"}), 131008),
        (
            {
                "messaging_product": "whatsapp",
                "to": "4915123456789",
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Pick"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": str(n), "title": "x"}} for n in range(4)]},
                },
            },
            131009,
        ),
    ],
)
def test_fake_whatsapp_validates_bodies_like_graph(client, body, code):
    response = client.post(MESSAGES, json=body, headers=ACCESS)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code})")
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]


def test_fake_whatsapp_accepts_phone_and_bsuid_recipients_and_records_the_outbox(client):
    phone = client.post(MESSAGES, json=text_message(biz_opaque_callback_data="c_1|camp1"), headers=ACCESS)
    template = {
        "messaging_product": "whatsapp",
        "recipient": "US.13491208655302741918",
        "type": "template",
        "template": {"name": "welcome", "language": {"code": "en"}, "components": [{"type": "body", "parameters": []}]},
    }
    bsuid = client.post(MESSAGES, json=template, headers=ACCESS)
    assert phone.status_code == bsuid.status_code == 200
    assert phone.json()["contacts"] == [{"input": "+4915123456789", "wa_id": "4915123456789"}]
    assert phone.json()["messages"][0]["id"].startswith("wamid.")
    assert bsuid.json()["contacts"] == [{"input": "US.13491208655302741918", "user_id": "US.13491208655302741918"}]
    outbox = client.get("/_local/outbox").json()["messages"]
    assert [m["type"] for m in outbox] == ["text", "template"]
    assert [m["to"] for m in outbox] == ["+4915123456789", "US.13491208655302741918"]
    assert outbox[0]["wamid"] == phone.json()["messages"][0]["id"] and outbox[0]["phone_number_id"] == "1234567890"
    assert outbox[0]["body"]["text"]["body"] == "Hello" and outbox[0]["sent_at"]
    client.delete("/_local/outbox")
    assert client.get("/_local/outbox").json() == {"messages": []}


def test_fake_whatsapp_refuses_a_bsuid_in_to_and_lets_to_win_over_recipient(client):
    # Given Meta's 2026 rule: `to` carries a phone number, `recipient` a business-scoped user id
    in_to = client.post(MESSAGES, json=text_message(to="DE.1000000000000000001"), headers=ACCESS)
    assert in_to.status_code == 400 and in_to.json()["error"]["code"] == 100
    assert "recipient" in in_to.json()["error"]["error_data"]["details"]
    neither = client.post(MESSAGES, json={**text_message(), "to": None}, headers=ACCESS)
    assert neither.json()["error"]["code"] == 131008
    # When both are given, the phone number wins
    both = client.post(MESSAGES, json=text_message(recipient="DE.1000000000000000001"), headers=ACCESS)
    assert both.status_code == 200 and both.json()["contacts"][0] == {
        "input": "+4915123456789",
        "wa_id": "4915123456789",
    }


def test_fake_whatsapp_marketing_messages_takes_templates_and_bills_them_as_marketing(client):
    template = {
        "messaging_product": "whatsapp",
        "to": "+4915123456789",
        "type": "template",
        "template": {
            "name": "bf26",
            "language": {"code": "en"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Asha"}]}
            ],
        },
    }
    sent = client.post(MESSAGES.replace("/messages", "/marketing_messages"), json=template, headers=ACCESS)
    assert sent.status_code == 200
    text = client.post(MESSAGES.replace("/messages", "/marketing_messages"), json=text_message(), headers=ACCESS)
    assert text.status_code == 400 and text.json()["error"]["code"] == 100
    params = [{"type": "text", "parameter_name": "first_name", "text": "Asha"}, {"type": "text", "text": "20%"}]
    mixed = {**template, "template": {**template["template"], "components": [{"type": "body", "parameters": params}]}}
    assert client.post(MESSAGES, json=mixed, headers=ACCESS).json()["error"]["code"] == 132012
    (entry,) = client.get("/_local/outbox").json()["messages"]
    assert entry["endpoint"] == "marketing_messages" and entry["type"] == "template"


def test_fake_whatsapp_faults_fail_count_times_per_recipient_or_with_5xx(client):
    client.post("/_local/whatsapp/faults", json={"code": 130429, "count": 2})
    codes = [client.post(MESSAGES, json=text_message(), headers=ACCESS).status_code for _ in range(3)]
    assert codes == [400, 400, 200]

    client.post("/_local/whatsapp/faults", json={"code": 131026, "to": "4915111111111"})
    blocked = client.post(MESSAGES, json=text_message(to="+4915111111111"), headers=ACCESS)
    assert blocked.json()["error"]["code"] == 131026
    assert client.post(MESSAGES, json=text_message(to="+4915122222222"), headers=ACCESS).status_code == 200

    client.post("/_local/whatsapp/faults", json={"http_status": 503, "count": 1})
    unavailable = client.post(MESSAGES, json=text_message(to="+4915122222222"), headers=ACCESS)
    assert unavailable.status_code == 503 and unavailable.json()["error"]["code"] == 131016

    client.delete("/_local/whatsapp/faults")
    client.post("/_local/whatsapp/faults", json={"latency_ms": 200})
    started = time.perf_counter()
    assert client.post(MESSAGES, json=text_message(), headers=ACCESS).status_code == 200
    assert time.perf_counter() - started >= 0.2
    assert len(client.get("/_local/outbox").json()["messages"]) == 3


def signature_ok(event: dict[str, Any]) -> bool:
    body = event["body"].encode()
    expected = "sha256=" + hmac.new(WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(event["headers"]["x-hub-signature-256"], expected)


def test_fake_whatsapp_sends_signed_status_webhooks_and_a_reply(client, recorders):
    # Given a fake that reads and answers everything
    client.post("/_local/whatsapp/behaviour", json={"read_rate": 1.0, "reply_rate": 1.0, "reply_text": "Rabatt?"})
    sent = client.post(MESSAGES, json=text_message(biz_opaque_callback_data="c_1|send1"), headers=ACCESS).json()
    wamid = sent["messages"][0]["id"]
    # When the runtime drains
    report = client.post("/_local/drain").json()
    # Then /webhook got sent, delivered, read and a reply, each signed with the app secret
    events = recorders["WebhookFunction"].events
    assert report["whatsapp_webhooks"]["delivered"] == 4
    assert all(e["routeKey"] == "POST /webhook" and signature_ok(e) for e in events)
    values = [json.loads(e["body"])["entry"][0]["changes"][0]["value"] for e in events]
    statuses = [v["statuses"][0] for v in values if "statuses" in v]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["id"] == wamid
        assert status["recipient_id"] == "4915123456789" and status["recipient_user_id"].startswith("DE.")
        assert status["biz_opaque_callback_data"] == "c_1|send1"
    assert statuses[0]["pricing"]["category"] == "service" and statuses[0]["conversation"]["id"]
    reply = next(v for v in values if "messages" in v)
    message = reply["messages"][0]
    assert message["type"] == "text" and message["text"]["body"] == "Rabatt?"
    assert message["context"]["id"] == wamid and message["from"] == "4915123456789"
    assert reply["contacts"][0]["wa_id"] == "4915123456789" and reply["metadata"]["phone_number_id"] == "1234567890"
    assert client.get("/_local/outbox").json()["messages"][0]["statuses"] == ["sent", "delivered", "read"]


def test_fake_whatsapp_is_deterministic_and_honours_rates(client, recorders):
    client.post("/_local/whatsapp/behaviour", json={"read_rate": 0.0, "reply_rate": 0.0})
    client.post(MESSAGES, json=text_message(to="+4915133333333"), headers=ACCESS)
    client.post("/_local/drain")
    kinds = [
        json.loads(e["body"])["entry"][0]["changes"][0]["value"]["statuses"][0]["status"]
        for e in recorders["WebhookFunction"].events
    ]
    assert kinds == ["sent", "delivered"]


def test_async_fault_reports_the_error_in_a_failed_status(client, recorders):
    client.post("/_local/whatsapp/faults", json={"code": 131050, "to": "4915144444444", "async": True})
    accepted = client.post(MESSAGES, json=text_message(to="4915144444444"), headers=ACCESS)
    assert accepted.status_code == 200
    client.post("/_local/drain")
    value = json.loads(recorders["WebhookFunction"].events[-1]["body"])["entry"][0]["changes"][0]["value"]
    status = value["statuses"][0]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131050
    assert "contacts" not in value


def test_webhook_deliveries_that_fail_are_retried_then_dropped(client, recorders):
    recorders["WebhookFunction"].behaviour = lambda event: {"statusCode": 500, "body": "down"}
    client.post("/_local/whatsapp/behaviour", json={"deliver": False})
    client.post(MESSAGES, json=text_message(), headers=ACCESS)
    for _ in range(3):
        client.post("/_local/drain")
    assert len(recorders["WebhookFunction"].events) == 3
    assert client.get("/_local/whatsapp").json()["pending_webhooks"] == 0


def test_the_local_clock_moves_the_handlers_time_and_resets(client):
    from engage.core.time import utcnow

    moved = client.post("/_local/clock", params={"now": "2030-01-07T10:00:00Z"})
    assert moved.status_code == 200 and moved.json()["now"].startswith("2030-01-07T10:00")
    assert utcnow().year == 2030
    assert client.post("/_local/clock", params={"now": "soon"}).status_code == 400
    assert client.delete("/_local/clock").status_code == 200
    assert utcnow().year < 2030

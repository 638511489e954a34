"""Lambda event source mappings, locally: SQS pollers and DynamoDB stream tailers that call handlers.

moto cannot run event source mappings without Docker, so the runtime polls itself: moto keeps the
streams and queues, and nothing else polls them.

SQS: receive up to min(BatchSize, 10) messages, hand them over as a real SQS event, delete what
succeeded, honour `batchItemFailures`; a raised exception fails the whole batch. Failed messages
stay in the queue and moto moves them to the DLQ after `maxReceiveCount` receives. One local
difference: a failed message's visibility is shortened to `retry_visibility` seconds (default 0)
with ChangeMessageVisibility, so drains finish in seconds instead of waiting out the queue's
visibility timeout (180 s for the send queue), unless the handler set that message's visibility
itself (a backoff), which is kept (local/wakeups.py lets a drain wait for it).

Streams: each consumer tails the stream with its own iterator from TRIM_HORIZON, converts records to
the Lambda shape, drops those its `FilterCriteria` reject, and delivers batches of BatchSize.
`batchItemFailures` is a checkpoint: the batch is retried from the first failed record. After
`MaximumRetryAttempts` retries the failing part goes to the `OnFailure` SQS destination as Lambda's
failure record, and the consumer moves on. `BisectBatchOnFunctionError` halves the batch after an
exception.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from local.functions import LocalFunction
from local.patterns import compile_filters, passes
from local.wakeups import WAKEUPS, runtime_call

log = logging.getLogger("local.consumers")
REGION = "eu-west-1"


@dataclass
class Stats:
    batches: int = 0
    records: int = 0
    failed: int = 0
    errors: int = 0  # invocations that raised

    def as_dict(self) -> dict[str, int]:
        return {"batches": self.batches, "records": self.records, "failed": self.failed, "errors": self.errors}

    def add(self, other: Stats) -> None:
        self.batches += other.batches
        self.records += other.records
        self.failed += other.failed
        self.errors += other.errors


def failed_ids(result: Any, reports_failures: bool) -> set[str] | None:
    """Item identifiers the handler reported as failed (None means: all succeeded)."""
    if not reports_failures or not isinstance(result, dict):
        return None
    items = result.get("batchItemFailures") or []
    return {str(item.get("itemIdentifier")) for item in items if isinstance(item, dict)}


# ---------------------------------------------------------------------------------------------- SQS


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of a Lambda SQS event from a ReceiveMessage message."""
    attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType")}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = entry
    body = message.get("Body", "")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class ConsumerSettings(TypedDict):
    """What both kinds of consumer read from an event source mapping."""

    name: str
    function: LocalFunction
    batch_size: int
    reports_failures: bool
    filters: list[dict[str, Any]]


@dataclass
class SqsConsumer:
    """One `SQS` event of a function: the queue it polls and how it batches."""

    name: str  # "SenderFunction/SendJobs"
    function: LocalFunction
    sqs: Any  # boto3 SQS client (the runtime's own)
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    reports_failures: bool = False
    filters: list[dict[str, Any]] = field(default_factory=list)
    concurrency: int = 1
    retry_visibility: int = 0
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._receive_lock = threading.Lock()
        self._stats_lock = threading.Lock()

    def set_concurrency(self, workers: int) -> None:
        """How many batches may run at once (Lambda's ScalingConfig.MaximumConcurrency, locally)."""
        self.concurrency = max(1, workers)
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def _receive(self) -> list[dict[str, Any]]:
        with self._receive_lock:  # moto is not thread-safe: never hand one message to two workers
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(self.batch_size, 10)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
        return list(response.get("Messages", []))

    def poll_once(self) -> Stats:
        """Receives one batch and runs it (in one of `concurrency` slots). Empty stats when the queue is idle."""
        stats = Stats()
        if not self.function.exists:
            return stats
        with self._slots:
            messages = self._receive()
            if not messages:
                return stats
            records = [sqs_record(m, self.queue_arn) for m in messages]
            records, dropped = self._filter(records)
            failed = self._invoke(records, stats) if records else set()
            done = [r for r in records if r["messageId"] not in failed] + dropped
            self._settle(done, [r for r in records if r["messageId"] in failed])
            stats.batches, stats.records, stats.failed = 1, len(records), len(failed)
        with self._stats_lock:
            self.stats.add(stats)
        return stats

    def _filter(self, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if not self.filters:
            return records, []
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        for record in records:
            shaped = dict(record)
            try:
                shaped["body"] = json.loads(record["body"])
            except ValueError:
                pass
            (kept if passes(self.filters, shaped) else dropped).append(record)
        return kept, dropped

    def _invoke(self, records: list[dict[str, Any]], stats: Stats) -> set[str]:
        ids = {r["messageId"] for r in records}
        try:
            result = self.function.invoke({"Records": records})
        except Exception:  # a raised exception fails the whole batch, as in Lambda
            log.exception("%s: handler raised; the whole batch of %d will be retried", self.name, len(records))
            stats.errors += 1
            return ids
        failed = failed_ids(result, self.reports_failures)
        return (failed & ids) if failed is not None else set()

    def _settle(self, done: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
        # A failed record whose visibility the handler set (its own backoff) keeps it; the rest come back soon.
        failed = [r for r in failed if not WAKEUPS.delayed_by_handler(r["receiptHandle"])]
        WAKEUPS.forget([r["receiptHandle"] for r in done])
        with self._receive_lock, runtime_call():
            for chunk in _chunks(done, 10):
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
                )
            for chunk in _chunks(failed, 10):
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": self.retry_visibility}
                        for i, r in enumerate(chunk)
                    ],
                )

    def drain(self, max_batches: int = 10_000) -> Stats:
        """Polls until the queue gives nothing (with `concurrency` workers in parallel)."""
        total = Stats()
        if self.concurrency == 1:
            for _ in range(max_batches):
                got = self.poll_once()
                if not got.batches:
                    break
                total.add(got)
            return total

        def worker() -> Stats:
            mine = Stats()
            for _ in range(max_batches):
                got = self.poll_once()
                if not got.batches:
                    break
                mine.add(got)
            return mine

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"sqs-{self.function.folder}") as pool:
            for result in [pool.submit(worker) for _ in range(self.concurrency)]:
                total.add(result.result())
        return total


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ------------------------------------------------------------------------------------------- Streams


def _jsonable(value: Any) -> Any:
    """AttributeValues as Lambda's JSON has them: binary as base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def stream_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams GetRecords record in the shape Lambda delivers it."""
    source = raw["dynamodb"]
    created = source.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        created = int(created.replace(tzinfo=created.tzinfo or UTC).timestamp())
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": created if created is not None else int(datetime.now(UTC).timestamp()),
        "Keys": _jsonable(source.get("Keys", {})),
        "SequenceNumber": str(source["SequenceNumber"]),
        "SizeBytes": int(source.get("SizeBytes", 0)),
        "StreamViewType": source.get("StreamViewType", "NEW_AND_OLD_IMAGES"),
    }
    for image in ("NewImage", "OldImage"):
        if image in source:
            dynamodb[image] = _jsonable(source[image])
    record = {
        "eventID": raw.get("eventID") or uuid.uuid4().hex,
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3] or REGION,  # moto reports us-east-1 whatever the table's region
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:
        record["userIdentity"] = raw["userIdentity"]
    return record


class MotoStream:
    """A table's stream read straight from moto's in-process backend: the records GetRecords answers,
    without the round trip through botocore and moto's response serialiser, which costs far more than
    the read (tens of ms per 1,000-record page, the bulk of a drain while a large import writes).

    `table` finds the moto table (it is looked up on each read, as moto may replace it); `lock` is
    the runtime's lock around moto calls."""

    def __init__(self, table: Any, lock: Any) -> None:
        self._table, self._lock = table, lock

    def read(self, position: int | None, starting_position: str, limit: int) -> tuple[str, list[dict[str, Any]], int]:
        """(shard id, up to `limit` records from sequence number `position`, the next position).
        `position` None starts at the shard's start (TRIM_HORIZON) or end (LATEST). A position before
        the shard's start (records trimmed away) reads from the start, as an expired record is skipped."""
        with self._lock:
            table = self._table()
            shard = table.stream_shard if table is not None else None
            if shard is None:
                return "", [], position or 0
            first = shard.starting_sequence_number
            if position is None:
                position = first + len(shard.items) if starting_position == "LATEST" else first
            start = max(0, position - first)
            records = [record.to_json() for record in shard.items[start : start + limit]]
            return shard.id, records, first + start + len(records)


@dataclass
class StreamConsumer:
    """One `DynamoDB` event of a function: its own position in the stream, filters and retry policy."""

    name: str
    function: LocalFunction
    streams: Any  # boto3 dynamodbstreams client
    stream_arn: str
    batch_size: int = 100
    reports_failures: bool = False
    filters: list[dict[str, Any]] = field(default_factory=list)
    max_retries: int = -1  # -1: until the record expires (locally: 10,000)
    bisect: bool = False
    on_failure: tuple[Any, str] | None = None  # (sqs client, queue url)
    starting_position: str = "TRIM_HORIZON"
    stats: Stats = field(default_factory=Stats)
    sent_to_failure: int = 0
    position: int | None = None  # the next sequence number this consumer reads (None: not read yet)
    tumbling_window: int = 0  # seconds; > 0: events carry shardId, window and state as Lambda's do
    direct: MotoStream | None = None  # set: read moto's stream in-process instead of through `streams`

    def __post_init__(self) -> None:
        self._keys_only = keys_only(self.filters)
        self._lock = threading.Lock()
        self._iterators: dict[str, str | None] = {}
        self._pending: list[dict[str, Any]] = []
        self._attempts = 0
        self._limit = self.batch_size

    def _fetch(self) -> None:
        """Reads every new record of every shard into the pending list (filtered)."""
        if self.direct is not None:
            self._fetch_direct(self.direct)
            return
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.starting_position
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records = response.get("Records", [])
                iterator = response.get("NextShardIterator")
                for raw in records:
                    self.position = int(raw["dynamodb"]["SequenceNumber"]) + 1
                    record = stream_record(raw, self.stream_arn)
                    if passes(self.filters, record):
                        self._pending.append(record)
                if not records:
                    break
            self._iterators[shard_id] = iterator
        if self.position is None and shards:  # read to the end of an empty stream: start of the shard
            self.position = int(shards[0]["SequenceNumberRange"]["StartingSequenceNumber"])

    def _fetch_direct(self, stream: MotoStream) -> None:
        while True:
            shard_id, records, self.position = stream.read(self.position, self.starting_position, 1000)
            if shard_id:
                self._iterators.setdefault(shard_id, None)  # the shard id events and failure records name
            for raw in records:
                if self._keys_only and not passes(self.filters, _head(raw)):
                    continue  # rejected on its name and keys: not worth copying its images
                record = stream_record(raw, self.stream_arn)
                if passes(self.filters, record):
                    self._pending.append(record)
            if len(records) < 1000:
                return

    def poll_once(self) -> Stats:
        """Delivers one batch (fetching new records first). Empty stats when caught up."""
        stats = Stats()
        if not self.function.exists:
            return stats
        with self._lock:
            if not self._pending:
                self._fetch()
            if not self._pending:
                return stats
            batch = self._pending[: max(1, min(self._limit, self.batch_size))]
            failed_from = self._invoke(batch, stats)
            stats.batches, stats.records = 1, len(batch)
            if failed_from is None:
                del self._pending[: len(batch)]
                self._attempts, self._limit = 0, self.batch_size
            else:
                stats.failed = len(batch) - failed_from
                self._retry_or_give_up(batch, failed_from)
            self.stats.add(stats)
        return stats

    def _invoke(self, batch: list[dict[str, Any]], stats: Stats) -> int | None:
        """Index of the first failed record in `batch`, or None when all succeeded."""
        try:
            result = self.function.invoke(self._event(batch))
        except Exception:
            log.exception("%s: handler raised on a batch of %d", self.name, len(batch))
            stats.errors += 1
            if self.bisect and len(batch) > 1:
                self._limit = max(1, len(batch) // 2)
            return 0
        failed = failed_ids(result, self.reports_failures)
        if not failed:
            return None
        positions = [i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed]
        return min(positions) if positions else 0

    def _event(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        event: dict[str, Any] = {"Records": batch}
        if self.tumbling_window > 0:
            start = int(time.time()) // self.tumbling_window * self.tumbling_window
            event.update(
                shardId=next(iter(self._iterators), "shardId-local"),
                eventSourceARN=self.stream_arn,
                window={"start": _iso(start), "end": _iso(start + self.tumbling_window)},
                state={},
                isFinalInvokeForWindow=False,
                isWindowTerminatedEarly=False,
            )
        return event

    def _retry_or_give_up(self, batch: list[dict[str, Any]], failed_from: int) -> None:
        del self._pending[:failed_from]  # checkpoint: everything before the first failure is done
        # A new head record starts its own count (its failure just now was its first invocation).
        self._attempts = 1 if failed_from > 0 else self._attempts + 1
        limit = self.max_retries if self.max_retries >= 0 else 10_000
        if self._attempts <= limit:
            return
        given_up = batch[failed_from:]
        del self._pending[: len(given_up)]
        self._attempts, self._limit = 0, self.batch_size
        self._send_failure(given_up)

    def _send_failure(self, records: list[dict[str, Any]]) -> None:
        self.sent_to_failure += len(records)
        log.warning("%s: giving up on %d record(s) after %d retries", self.name, len(records), self.max_retries)
        if self.on_failure is None:
            return
        sqs, url = self.on_failure
        now = datetime.now(UTC)
        created = [r["dynamodb"]["ApproximateCreationDateTime"] for r in records]
        body = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{self.function.name}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.max_retries + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "DDBStreamBatchInfo": {
                "shardId": next(iter(self._iterators), "shardId-local"),
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(min(created)),
                "approximateArrivalOfLastRecord": _iso(max(created)),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    def drain(self, max_batches: int = 10_000) -> Stats:
        total = Stats()
        for _ in range(max_batches):
            got = self.poll_once()
            if not got.batches:
                break
            total.add(got)
        return total


#: What `_head` gives of a record: filters that look at nothing else can judge a record by it.
HEAD_FIELDS = ("eventName", "eventSource", "eventVersion")


def keys_only(filters: list[dict[str, Any]]) -> bool:
    """True when every filter looks only at the record's name, source, version and `dynamodb.Keys`."""
    return bool(filters) and all(
        set(f) <= {*HEAD_FIELDS, "dynamodb"}
        and (not isinstance(f.get("dynamodb", {}), dict) or set(f.get("dynamodb", {})) <= {"Keys"})
        for f in filters
    )


def _head(raw: dict[str, Any]) -> dict[str, Any]:
    """A moto stream record's name, source, version and keys, as `stream_record` would give them (keys
    are strings, numbers or base64 binary in both)."""
    return {
        "eventName": raw["eventName"],
        "eventSource": "aws:dynamodb",
        "eventVersion": raw.get("eventVersion", "1.1"),
        "dynamodb": {"Keys": raw["dynamodb"].get("Keys", {})},
    }


def _iso(epoch: int | float) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def consumers_from_template(
    functions: dict[str, LocalFunction],
    resolve: Any,
    sqs: Any,
    streams: Any,
    arn_to_url: dict[str, str],
    direct: MotoStream | None = None,
) -> tuple[list[SqsConsumer], list[StreamConsumer]]:
    """The SQS and DynamoDB event sources of every function, ready to poll (streams through `direct`
    when given: the runtime's one table, read in-process)."""
    queues: list[SqsConsumer] = []
    tails: list[StreamConsumer] = []
    for logical, function in functions.items():
        for event_name, event in function.events.items():
            kind = event.get("Type")
            if kind not in ("SQS", "DynamoDB"):
                continue
            props = resolve(event.get("Properties", {}))
            common: ConsumerSettings = {
                "name": f"{logical}/{event_name}",
                "function": function,
                "batch_size": int(props.get("BatchSize", 10 if kind == "SQS" else 100)),
                "reports_failures": "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                "filters": compile_filters(props.get("FilterCriteria")),
            }
            if kind == "SQS":
                arn = props["Queue"]
                queues.append(SqsConsumer(sqs=sqs, queue_url=arn_to_url[arn], queue_arn=arn, **common))
                continue
            destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            tails.append(
                StreamConsumer(
                    streams=streams,
                    stream_arn=props["Stream"],
                    max_retries=int(props.get("MaximumRetryAttempts", -1)),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    on_failure=(sqs, arn_to_url[destination]) if destination in arn_to_url else None,
                    starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                    tumbling_window=int(props.get("TumblingWindowInSeconds", 0)),
                    direct=direct,
                    **common,
                )
            )
    return queues, tails

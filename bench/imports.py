"""CSV imports through the local runtime: files of 10,000 and 100,000 rows (5% bad, 3% duplicates) go
up through a presigned link; S3 notifies the imports function, the chunks go through the FIFO queue to
the import worker, and the stream consumers see every write. Prints wall time, rows/s, AWS requests
and DynamoDB units per 1,000 rows and the cost per 1,000,000 rows at list prices, for each size.

Then the peak Python heap of the imports function (streams the whole file) and of the import worker
(one chunk) at 10,000 and 100,000 rows, on in-memory stores (see memory_peaks): the heap counts what
the code holds, not what moto keeps.

The 100,000-row run took 13 minutes here at a load of 7 (moto does each write in Python); smaller files:
`BENCH_IMPORTS_ROWS=3000 python -m bench imports` (comma-separated sizes; the per-1,000-row figures hold).
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import random
import tempfile
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx

from bench.common import AwsRequestCounter, table_row

# us-east-1 list prices (2026), as in bench/sending.py: DynamoDB on-demand $0.625 per 1M write request
# units and $0.125 per 1M read request units; SQS FIFO $0.50 per 1M requests; S3 PUT $0.005 per 1,000,
# GET $0.0004 per 1,000, storage for the days a file is kept is below a cent and left out; Lambda arm64
# $0.0000133334 per GB-s and $0.20 per 1M requests.
DDB_WRITE = 0.625 / 1e6
DDB_READ = 0.125 / 1e6
SQS_FIFO_REQUEST = 0.50 / 1e6
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
LAMBDA_GB_S = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
WORKER_GB = 1.0  # ImportWorkerFunction MemorySize 1024
SPLITTER_GB = 0.5  # ImportsFunction MemorySize 512
REQUEST_SECONDS = 0.015  # a DynamoDB batch or transaction of up to 100 items, an S3 or SQS call

BAD_SHARE = 0.05
DUPLICATE_SHARE = 0.03
TAGS = ["interest:cosmetics", "source:instagram", "power:premium"]


class UnitCounter(AwsRequestCounter):
    """Requests by operation, and DynamoDB request units from each request's own parameters: a write is
    1 WRU per KB of item (2 in a transaction), a strongly consistent read of an item (< 4 KB) 1 RRU,
    a query page 0.5 RRU (eventually consistent, small)."""

    def __init__(self) -> None:
        super().__init__()
        self.wru = 0.0
        self.rru = 0.0

    def units(self, model: Any = None, params: Any = None, **_: Any) -> None:
        if model is None or not isinstance(params, dict):
            return
        name = model.name
        if name == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                self.wru += sum(_kb(r.get("PutRequest", {}).get("Item", r)) for r in requests)
        elif name == "TransactWriteItems":
            self.wru += sum(2 * _kb(next(iter(a.values())).get("Item", a)) for a in params.get("TransactItems", []))
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.wru += _kb(params.get("Item", params))
        elif name == "BatchGetItem":
            self.rru += sum(len(found.get("Keys", [])) for found in params.get("RequestItems", {}).values())
        elif name == "GetItem":
            self.rru += 1
        elif name in ("Query", "Scan"):
            self.rru += 0.5


def _kb(item: Any) -> int:
    return max(1, math.ceil(len(json.dumps(item, default=str)) / 1024))


def shop_file(rows: int, seed: int = 13) -> tuple[bytes, dict[str, int]]:
    """A semicolon CSV of `rows` rows: 5% bad (invalid numbers, unknown tags, missing consent, bad
    attributes, in equal parts) and 3% repeats of an earlier row's number."""
    rnd = random.Random(seed)
    lines = ["phone;name;tags;consent;consent_source;city;size"]
    expected: Counter[str] = Counter()
    for i in range(rows):
        number, name, tags, consent, city = f"+49151{i:08d}", f"Customer {i}", rnd.choice(TAGS), "ja", "Berlin"
        roll = rnd.random()
        if roll < BAD_SHARE:
            kind = ("invalid_number", "unknown_tag", "missing_consent", "bad_attribute")[i % 4]
            expected[kind] += 1
            if kind == "invalid_number":
                number = f"+49 151 {i % 1000}"
            elif kind == "unknown_tag":
                tags = "interest:astrology"
            elif kind == "missing_consent":
                consent = ""
            else:
                city = "x" * 1001
        elif roll < BAD_SHARE + DUPLICATE_SHARE and i > 0:
            number = f"+49151{rnd.randrange(0, i):08d}"
            expected["duplicate_candidates"] += 1
        lines.append(f"{number};{name};{tags};{consent};Newsletter;{city};M")
    return ("\r\n".join(lines) + "\r\n").encode(), dict(expected)


def one_run(rows: int) -> dict[str, Any]:
    import boto3

    from engage import wiring
    from local.runtime import LocalRuntime

    body, expected = shop_file(rows)
    total_chunks = math.ceil(rows / 5000)
    with LocalRuntime(log_level="ERROR") as rt:
        boto3.DEFAULT_SESSION = None
        boto3.setup_default_session(region_name="eu-west-1")
        counter = UnitCounter()
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)  # type: ignore[union-attr]
        boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb.*", counter.units)  # type: ignore[union-attr]
        wiring.reset()
        with httpx.Client(base_url=rt.url, headers=rt.bearer("admin"), timeout=600) as client:
            client.get("/v1/tags").raise_for_status()  # the starter tags
            for tag in TAGS:
                client.post("/v1/tags", json={"name": tag, "description": "bench"})
            counter.reset()
            counter.wru = counter.rru = 0.0
            started = time.perf_counter()
            created = client.post("/v1/imports", json={"filename": "shop.csv"}).json()
            httpx.put(created["upload_url"], content=body, timeout=600).raise_for_status()
            consumers: Counter[str] = Counter()
            while True:
                drained = rt.drain(max_seconds=3600)
                for name, stats in drained["consumers"].items():
                    consumers[name] += stats["batches"]
                report = client.get(f"/v1/imports/{created['id']}").json()
                if report["state"] in ("done", "failed"):
                    break
            wall = time.perf_counter() - started
    calls = Counter(counter.calls)
    calls["s3.PutObject"] += 1  # the client's presigned PUT (served by the runtime, not counted above)
    return {
        "rows": rows,
        "bytes": len(body),
        "wall": wall,
        "report": report,
        "expected": expected,
        "calls": calls,
        "wru": counter.wru,
        "rru": counter.rru,
        "chunks": total_chunks,
        "batches": consumers,
    }


def cost_per_million(result: dict[str, Any]) -> dict[str, float]:
    """Dollars per 1,000,000 rows. Lambda time is modelled, not measured (moto is far slower than
    DynamoDB): every AWS request the functions make waits REQUEST_SECONDS, one after another, billed
    at the worker's memory; CPU time on top is small next to it."""
    per = 1e6 / result["rows"]
    calls: Counter[str] = result["calls"]
    sqs = sum(v for k, v in calls.items() if k.startswith("sqs."))
    sqs += 2 * result["chunks"]  # the poller's receive and delete of each chunk, not counted locally
    s3_puts = sum(v for k, v in calls.items() if k in ("s3.PutObject", "s3.UploadPart", "s3.CreateMultipartUpload"))
    s3_gets = sum(v for k, v in calls.items() if k in ("s3.GetObject", "s3.HeadObject"))
    invocations = result["chunks"] + 1
    gb_s = sum(calls.values()) * REQUEST_SECONDS * WORKER_GB
    return {
        "dynamodb": (result["wru"] * DDB_WRITE + result["rru"] * DDB_READ) * per,
        "sqs": sqs * SQS_FIFO_REQUEST * per,
        "s3": (s3_puts * S3_PUT + s3_gets * S3_GET) * per,
        "lambda": (invocations * LAMBDA_REQUEST + gb_s * LAMBDA_GB_S) * per,
    }


def print_run(result: dict[str, Any]) -> None:
    report, rows = result["report"], result["rows"]
    failed = {k: v for k, v in report["failed"].items() if v}
    print(
        f"{rows:,} rows ({result['bytes'] / 1e6:.1f} MB, {result['chunks']} chunks): {report['state']} in "
        f"{result['wall']:.1f} s = {rows / result['wall']:,.0f} rows/s; imported {report['imported']:,}, "
        f"updated {report['updated']:,}, failed {failed}"
    )
    expected = {k: v for k, v in result["expected"].items() if k != "duplicate_candidates"}
    print(
        f"  bad rows written into the file: {expected}; "
        f"repeated numbers: {result['expected'].get('duplicate_candidates', 0):,}"
    )
    ran = ", ".join(f"{name.split('/')[0]} {n:,}" for name, n in sorted(result["batches"].items()) if n)
    print(f"  consumer batches: {ran}; every other SQS and stream consumer: none")
    per_k = 1000 / rows
    by_op = sorted(result["calls"].items(), key=lambda kv: -kv[1])
    print(f"  AWS requests per 1,000 rows: {sum(result['calls'].values()) * per_k:,.1f}")
    for op, n in by_op:
        print(f"    {op:<32} {n * per_k:>10,.2f}")
    print(
        f"  DynamoDB write units per 1,000 rows: {result['wru'] * per_k:,.0f}; read units: {result['rru'] * per_k:,.0f}"
    )
    cost = cost_per_million(result)
    print(
        "  cost per 1,000,000 rows: "
        + ", ".join(f"{k} ${v:,.2f}" for k, v in cost.items())
        + f", total ${sum(cost.values()):,.2f}"
    )


def memory_peaks(rows: int) -> dict[str, int]:
    """Peak heap of split() over the whole file and of import_chunk() per chunk (the largest).

    The worker's own heap, apart from the stores: each chunk runs on in-memory customer, claim and
    tag stores that start empty (a store holding every earlier chunk's customers grows with the file,
    and a resize of its tables would be counted as the worker's). The failed rows' file is spooled as
    the S3 adapter spools it. Starting empty, claims of earlier chunks are not seen, so a repeat
    across chunks is imported again here; that is 1.5% of the rows, and the bench above counts them."""
    from engage.audience.imports import Chunk, ImportIn, import_chunk, split, start_import, uploads_key
    from engage.core.time import utcnow
    from tests.fakes.audience import FakeImportCustomers, FakeTagWriter, import_ports

    ports = import_ports(tags=TAGS)
    ports.files = spooled_files()
    body, _ = shop_file(rows)
    job, _ = start_import(ports, ImportIn(filename="shop.csv"), None, by="bench", now=utcnow())
    ports.files.put(uploads_key(job.id), body)
    del body
    tracemalloc.start()
    split(ports, job.id, utcnow())
    splitter = tracemalloc.get_traced_memory()[1]
    worker = 0
    for message in list(ports.queue.sent):
        ports.customers, ports.tag_writer = FakeImportCustomers(), FakeTagWriter()
        ports.imports.claimed.clear()  # type: ignore[attr-defined]
        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        import_chunk(ports, Chunk.model_validate(message), utcnow())
        worker = max(worker, tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    return {"worker_peak": worker, "splitter_peak": splitter}


def spooled_files() -> Any:
    from engage.adapters.s3 import SPOOL_BYTES
    from tests.fakes.audience import FakeFiles

    class Spooled(FakeFiles):
        """put_stream as S3Files does it: in memory up to SPOOL_BYTES, then a temporary file."""

        def put_stream(self, key: str, parts: Iterable[bytes], content_type: str = "text/csv") -> int:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
                for part in parts:
                    spool.write(part)
                return spool.tell()

    return Spooled()


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.getLogger("local").setLevel(logging.CRITICAL)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    sizes = [int(n) for n in os.environ.get("BENCH_IMPORTS_ROWS", "10000,100000").split(",") if n.strip()]
    results = []
    for rows in sizes:
        results.append(one_run(rows))
        print_run(results[-1])
    figure_widths = (12, 10, 10, 14, 14, 14, 14)
    print(
        table_row(
            "rows",
            "wall s",
            "rows/s",
            "requests/1k",
            "write units/1k",
            "read units/1k",
            "$ per 1M",
            widths=figure_widths,
        )
    )
    for result in results:
        per_k = 1000 / result["rows"]
        print(
            table_row(
                result["rows"],
                round(result["wall"], 1),
                round(result["rows"] / result["wall"], 1),
                round(sum(result["calls"].values()) * per_k, 1),
                round(result["wru"] * per_k),
                round(result["rru"] * per_k),
                round(sum(cost_per_million(result).values()), 2),
                widths=figure_widths,
            )
        )
    small, big = memory_peaks(10_000), memory_peaks(100_000)
    widths = (40, 14, 14, 8)
    print(table_row("peak Python heap (MB)", "10,000 rows", "100,000 rows", "ratio", widths=widths))
    for label, key in (
        ("import worker (largest chunk)", "worker_peak"),
        ("imports function (whole file)", "splitter_peak"),
    ):
        print(table_row(label, small[key] / 1e6, big[key] / 1e6, f"{big[key] / max(1, small[key]):.2f}", widths=widths))

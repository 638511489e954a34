"""What one campaign message costs over its whole life, by function, at list prices.

One campaign through the local runtime (HTTP create + launch, dispatcher, senders, the fake WhatsApp
with its status webhooks and replies, the tagger and the metrics consumer on the table's stream),
drained to the end. Every AWS request is counted against the function that made it, and every
DynamoDB request is priced by what DynamoDB would bill: write units from the item's size before
and after (1 KB each), one more write per global secondary index the change touches (two when an
index key moves; none when nothing the index projects changed), transactions twice, read units
from the bytes returned (4 KB each, eventually consistent at half). Ingress per request (HTTP API),
Lambda requests and modelled GB-s, SQS requests, X-Ray traces and CloudWatch log volume complete
the $ per 1,000,000 messages, printed next to the floor this model computes for the same
guarantees, and the import times of each function (median of 5 fresh interpreters).
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import table_row

RECIPIENTS = 300
ROOT = Path(__file__).resolve().parent.parent

# us-east-1 list prices (2026)
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_S = 0.0000133334  # arm64
SQS_REQUEST = 0.40 / 1e6
DDB_WRU = 0.625 / 1e6  # on-demand
DDB_RRU = 0.125 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6  # first 300M a month
FUNCTION_URL_REQUEST = 0.0  # a function URL has no per-request fee: the Lambda request is the price
XRAY_TRACE = 5.00 / 1e6  # traces recorded
LOGS_GB = 0.50  # CloudWatch Logs ingestion

# Modelled latencies in AWS (ms) for billed duration: what a request costs a function in wall time.
LATENCY_MS = {"dynamodb": 6.0, "sqs": 12.0, "sns": 20.0, "ssm": 15.0}
TRANSACTION_MS = 14.0
GRAPH_CALL_MS = 300.0  # a WhatsApp send; the sender runs a batch's 10 calls side by side
PLATFORM_LOG_BYTES = 320  # START, END and REPORT lines of every invocation
XRAY_FIXED_RATE = 0.05  # Lambda's default sampling beyond the 1/s reservoir

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "Query", "Scan"}


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value in DynamoDB JSON (the documented rules, rounded)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(inner.lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(inner) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    return 0


def item_kind(key: dict[str, Any]) -> str:
    """A readable kind of item from its key: CUST#/SEND#, WAMID#/SEND, CNT#..."""
    pk = str(next(iter(key["pk"].values()))).split("#")[0]
    sk = str(next(iter(key.get("sk", {"S": ""}).values()))).split("#")[0]
    return f"{pk}/{sk}"


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


@dataclass
class Index:
    name: str
    keys: tuple[str, str]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...] = ()

    def view(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """The item as this index stores it, or None when the item is not in the index."""
        if not item or any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return item
        wanted = {"pk", "sk", *self.keys, *(self.include if self.projection == "INCLUDE" else ())}
        return {k: v for k, v in item.items() if k in wanted}

    def writes(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> float:
        """Index write units of one table write (DynamoDB's rules for GSI write capacity)."""
        old, new = self.view(before), self.view(after)
        if old is None and new is None:
            return 0
        if old is None or new is None:
            return math.ceil(item_size(old or new) / 1024) or 1
        if any(old.get(k) != new.get(k) for k in self.keys):
            return (math.ceil(item_size(old) / 1024) or 1) + (math.ceil(item_size(new) / 1024) or 1)
        if old == new:
            return 0
        return math.ceil(item_size(new) / 1024) or 1


@dataclass
class Usage:
    invocations: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # service.Operation
    wru_by_op: dict[str, float] = field(
        default_factory=lambda: defaultdict(float)
    )  # "Operation pk-prefix" -> table + index WRU
    wru_table: float = 0.0
    wru_index: float = 0.0
    rru: float = 0.0
    aws_ms: float = 0.0  # modelled wall time of its AWS requests
    graph_calls: int = 0
    ingress: int = 0  # HTTP requests that reached it through API Gateway
    memory_mb: int = 128


class Meter:
    """Attributes every emulated AWS request to the function running on this thread, and prices
    DynamoDB requests from moto's own items before and after each write."""

    def __init__(self, table_name: str, indexes: list[Index]) -> None:
        self.table_name = table_name
        self.indexes = indexes
        self.usage: dict[str, Usage] = defaultdict(Usage)
        self.local = threading.local()
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ who is calling
    def current(self) -> str:
        return getattr(self.local, "function", None) or "event source mappings"

    def wrap_invoke(self, function: Any, invoke: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        meter = self

        def invoke_metered(event: dict[str, Any]) -> Any:
            previous = getattr(meter.local, "function", None)
            meter.local.function = function.logical_id
            usage = meter.usage[function.logical_id]
            usage.memory_mb = function.memory
            usage.invocations += 1
            if "requestContext" in event and "http" in event["requestContext"]:
                usage.ingress += 1
            try:
                return invoke(event)
            finally:
                meter.local.function = previous

        return invoke_metered

    # ------------------------------------------------------------------ DynamoDB items in moto
    def _table(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends["123456789012"]["eu-west-1"].tables[self.table_name]

    def _item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        found = self._table().get_item(DynamoType(key["pk"]), DynamoType(key["sk"]) if "sk" in key else None)
        return found.to_json()["Attributes"] if found else None

    def _write_keys(self, operation: str, body: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
        """(key, multiplier) of every item a write request touches."""
        if operation == "PutItem":
            return [({"pk": body["Item"]["pk"], "sk": body["Item"]["sk"]}, 1)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(body["Key"], 1)]
        if operation == "BatchWriteItem":
            found = []
            for requests in body.get("RequestItems", {}).values():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        found.append(({"pk": item["pk"], "sk": item["sk"]}, 1))
                    else:
                        found.append((request["DeleteRequest"]["Key"], 1))
            return found
        if operation == "TransactWriteItems":
            found = []
            for action in body.get("TransactItems", []):
                (kind, inner), *_ = action.items()
                key = inner["Item"] if kind == "Put" else inner["Key"]
                found.append(({"pk": key["pk"], "sk": key["sk"]}, 2))  # transactions bill twice
            return found
        return []

    def request(self, service: str, operation: str, body: dict[str, Any], call: Callable[[], Any]) -> Any:
        with self.lock:
            usage = self.usage[self.current()]
            usage.requests[f"{service}.{operation}"] += 1
            if service == "dynamodbstreams":  # Lambda's own stream reads are not billed
                return call()
            usage.aws_ms += TRANSACTION_MS if operation.startswith("Transact") else LATENCY_MS.get(service, 10.0)
            if service != "dynamodb":
                return call()
            keys = self._write_keys(operation, body)
            before = [self._item(k) for k, _ in keys]
            response = call()
            for (key, times), old in zip(keys, before, strict=True):
                new = self._item(key)
                table_units = times * (math.ceil(max(item_size(old), item_size(new)) / 1024) or 1)
                index_units = times * sum(index.writes(old, new) for index in self.indexes)
                usage.wru_table += table_units
                usage.wru_index += index_units
                usage.wru_by_op[f"{operation} {item_kind(key)}"] += table_units + index_units
            if operation in READS or operation in ("BatchGetItem", "TransactGetItems"):
                usage.rru += self._read_units(operation, body, response)
            return response

    @staticmethod
    def _read_units(operation: str, body: dict[str, Any], response: Any) -> float:
        try:
            payload = json.loads(response[2])
        except (TypeError, ValueError, AttributeError, IndexError):
            return 1.0
        factor = 1.0 if body.get("ConsistentRead") else 0.5
        if operation == "GetItem":
            return factor * (math.ceil(item_size(payload.get("Item")) / 4096) or 1)
        if operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in payload.get("Items", []))
            return factor * (math.ceil(size / 4096) or 1)
        if operation == "BatchGetItem":
            items = [i for rows in payload.get("Responses", {}).values() for i in rows]
            return sum(factor * (math.ceil(item_size(i) / 4096) or 1) for i in items)
        items = [r.get("Item") for r in payload.get("Responses", [])]
        return sum(2 * (math.ceil(item_size(i) / 4096) or 1) for i in items)


def install(meter: Meter) -> Callable[[], None]:
    """Routes moto's requests through the meter; returns the undo."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        host = request.url.split("/")[2].split(".")[0]
        target = request.headers.get("X-Amz-Target", b"") or b""
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        raw = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if not operation:  # SQS's query protocol names the action in the body
            operation = next((p[7:] for p in raw.split("&") if p.startswith("Action=")), "?")
        try:
            body = json.loads(raw) if raw.startswith("{") else {}
        except ValueError:
            body = {}
        return meter.request(host, operation, body, lambda: original(self, request))

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    submit = ThreadPoolExecutor.submit

    def submit_as_caller(pool: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        caller = getattr(meter.local, "function", None)

        def as_caller(*a: Any, **k: Any) -> Any:
            meter.local.function = caller  # a function's worker threads bill to the function
            return fn(*a, **k)

        return submit(pool, as_caller, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_as_caller  # type: ignore[method-assign]

    def undo() -> None:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]
        ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]

    return undo


def indexes_of(template: dict[str, Any]) -> list[Index]:
    table = template["Resources"]["EngageTable"]["Properties"]
    found = []
    for gsi in table.get("GlobalSecondaryIndexes", []):
        keys = tuple(k["AttributeName"] for k in gsi["KeySchema"])
        projection = gsi.get("Projection", {})
        found.append(
            Index(
                gsi["IndexName"],
                (keys[0], keys[1]),
                projection.get("ProjectionType", "ALL"),
                tuple(projection.get("NonKeyAttributes", [])),
            )
        )
    return found


# ---------------------------------------------------------------- the campaign
def seed_known_customers(recipients: int) -> None:
    """The bench audience as a running business has it: each customer found by phone number and by
    the business-scoped user id WhatsApp reported for it before (identity items), so a reply is
    attributed to its customer and campaign instead of creating a stranger."""
    from bench.sending import seed_customers
    from engage import wiring
    from engage.adapters.dynamo.customers import CustomerRepository, identity_item
    from engage.customers.profiles import Consent, Customer
    from local.fake_whatsapp import bsuid_for

    seed_customers(recipients)
    items = []
    for i in range(recipients):
        wa_id = f"4915{i:09d}"
        customer = Customer(
            id=f"c_{i:08x}", wa_id=wa_id, user_id=bsuid_for(wa_id), name=f"Kim{i}", consent=Consent(marketing=True)
        )
        items.append(CustomerRepository.profile_item(customer))
        items.append(identity_item(customer.id, wa_id=wa_id))
        items.append(identity_item(customer.id, user_id=customer.user_id))
    wiring.aws.table().batch_put(items)


def run_campaign(recipients: int = RECIPIENTS) -> dict[str, Any]:
    import httpx

    from bench.sending import TEMPLATE
    from local.runtime import LocalRuntime

    # the template's ENGAGE_SENDER_PARALLEL_JOBS: a whole batch in flight, as in AWS
    with LocalRuntime(sender_workers=2, sender_parallel_jobs=10, log_level="ERROR") as runtime:
        fake = runtime.fake
        assert fake is not None
        seed_known_customers(recipients)
        meter = Meter(runtime.resources.table_name, indexes_of(runtime.template))
        for function in runtime.functions.values():
            function.invoke = meter.wrap_invoke(function, function.invoke)  # type: ignore[method-assign,assignment]
        undo = install(meter)
        graph = fake.handle_send

        def counted_send(*args: Any, **kwargs: Any) -> Any:
            meter.usage[meter.current()].graph_calls += 1
            return graph(*args, **kwargs)

        fake.handle_send = counted_send  # type: ignore[method-assign]
        started = time.perf_counter()
        try:
            with httpx.Client(base_url=runtime.url, headers=runtime.bearer("marketer"), timeout=120) as api:
                assert api.post("/v1/templates", json=TEMPLATE).status_code in (200, 201)
                body = {
                    "name": "cost",
                    "rule": {"tag": "bench"},
                    "variants": [{"name": "A", "template": "bench", "body": ["{{name}}"]}],
                    "rate_per_minute": 60_000,
                }
                created = api.post("/v1/campaigns", json=body)
                assert created.status_code == 201, created.text
                assert api.post(f"/v1/campaigns/{created.json()['id']}/launch").status_code == 200
            for _ in range(20):  # until a whole drain finds nothing: statuses, replies, tags, counters
                report = runtime.drain(max_seconds=300)
                busy = any(s.get("batches") for s in report["consumers"].values())
                if not busy and not report["whatsapp_webhooks"]["delivered"]:
                    break
        finally:
            undo()
        messages = fake.messages()
        from engage import wiring
        from engage.metrics.counters import add_up

        counted = add_up(wiring.metrics.counters().campaign_rows(created.json()["id"]))
    return {
        "messages": len(messages),
        "usage": dict(meter.usage),
        "counted": counted,
        "wall": time.perf_counter() - started,
    }


# ---------------------------------------------------------------- money
INGRESS = {"HttpApi": HTTP_API_REQUEST, "FunctionUrl": FUNCTION_URL_REQUEST}
EMF_BYTES = {"SenderFunction": 380, "MetricsFunction": 300}  # one blob an invocation (`log_metrics`)
EMF_VALUES_PER_BLOB = 100  # the webhook's buffer: Powertools prints a metric's blob at 100 values


def webhook_emf_bytes() -> float:
    """EMF bytes a webhook POST costs: the blob Powertools prints for 100 buffered POSTs (latency and
    status count each, with realistic values), divided by 100 (engage.core.telemetry.flush_when_due).
    That is the webhook at its rate: ~33 POSTs/s a container at 80 msg/s fills a blob in ~3 s, well
    inside the 10 s buffer; at a trickle it is one blob a POST (~420 bytes)."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    blob = Metrics(namespace="Engage", service="engage")
    posts = EMF_VALUES_PER_BLOB - 1  # Powertools prints the blob itself at the 100th value
    for i in range(posts):
        blob.add_metric(name="WebhookLatencyMs", unit=MetricUnit.Milliseconds, value=23.0 + (i * 7919 % 400) / 10)
        blob.add_metric(name="WebhookStatuses", unit=MetricUnit.Count, value=1)
    size = len(json.dumps(blob.serialize_metric_set(), separators=(",", ":")))
    blob.clear_metrics()
    return size / posts


def webhook_ingress(template: dict[str, Any]) -> str:
    """How Meta's webhook reaches the function in this template: a function URL or the HTTP API."""
    props = template["Resources"]["WebhookFunction"]["Properties"]
    return "FunctionUrl" if props.get("FunctionUrlConfig") else "HttpApi"


def traced(template: dict[str, Any], name: str) -> bool:
    """Whether the template gives the function active X-Ray tracing (its own setting, else Globals)."""
    props = template["Resources"].get(name, {}).get("Properties", {})
    setting = props.get("Tracing", template.get("Globals", {}).get("Function", {}).get("Tracing", "PassThrough"))
    return setting == "Active"


def dollars(name: str, usage: Usage, messages: int, ingress: str, xray: bool = True) -> dict[str, float]:
    per = 1e6 / max(1, messages)
    sqs = sum(v for k, v in usage.requests.items() if k.startswith("sqs."))
    sns = sum(v for k, v in usage.requests.items() if k.startswith("sns."))
    if name == "SenderFunction":  # 10 jobs side by side: one Graph round trip per batch, plus its AWS calls
        seconds = usage.invocations * GRAPH_CALL_MS / 1000 + usage.aws_ms / 1000 / 3
    else:
        seconds = usage.invocations * 0.005 + usage.aws_ms / 1000  # 5 ms of our own code per invocation
    gb_s = seconds * usage.memory_mb / 1024
    price = INGRESS[ingress] if name == "WebhookFunction" else HTTP_API_REQUEST
    emf = webhook_emf_bytes() if name == "WebhookFunction" else EMF_BYTES.get(name, 0)
    log_bytes = usage.invocations * (PLATFORM_LOG_BYTES + emf)
    return {
        "dynamodb": (usage.wru_table + usage.wru_index) * DDB_WRU * per + usage.rru * DDB_RRU * per,
        "lambda": (usage.invocations * LAMBDA_REQUEST + gb_s * LAMBDA_GB_S) * per,
        "sqs+sns": (sqs * SQS_REQUEST + sns * 0.50 / 1e6) * per,
        "ingress": usage.ingress * price * per,
        "logs+traces": (log_bytes / 1e9 * LOGS_GB + usage.invocations * XRAY_FIXED_RATE * XRAY_TRACE * xray) * per,
    }


def floor(messages: int, webhook_posts: float, replies: float) -> dict[str, float]:
    """The least the same guarantees can cost per 1,000,000 messages, from first principles:

    sender: the job on SQS (send, receive, delete: 3 requests per 10 jobs), 1 invocation per 10
    jobs of ~0.3 s at 128 MB, 3 writes (pair claim, intent, outcome: 1 WRU each, no index write)
    and a bucket claim per 10 sends, 2 eventually consistent reads (customer, history);
    webhook: 1 Lambda request per status POST behind a function URL, ~20 ms at 128 MB, 1 write
    per status; a reply: its history item and inbound message (2 writes), the tagger's read;
    metrics: per batch, so ~0 per message."""
    per = 1e6
    sender = 3 * 0.1 * SQS_REQUEST + 0.1 * (LAMBDA_REQUEST + 0.3 * 0.125 * LAMBDA_GB_S)
    sender += 3.1 * DDB_WRU + 2 * 0.5 * DDB_RRU
    webhook = webhook_posts * (LAMBDA_REQUEST + 0.02 * 0.125 * LAMBDA_GB_S + DDB_WRU)
    reply = replies * (2 * DDB_WRU + 0.5 * DDB_RRU + LAMBDA_REQUEST * 0.1)
    logs = (0.1 + webhook_posts) * PLATFORM_LOG_BYTES / 1e9 * LOGS_GB
    return {"sender": sender * per, "webhook": webhook * per, "replies": reply * per, "logs": logs * per}


# ---------------------------------------------------------------- import times
FUNCTIONS = ("webhook", "api", "sender", "metrics", "tagger", "dispatcher", "scheduler")


# What each handler builds on its first request (imported lazily by engage.wiring): part of its cold start.
# The webhook's also reads its settings (their models are built on first use) and parses a status
# notification, its most common request, so nothing its first POST needs is left out of the figure.
FIRST_REQUEST = {
    "webhook": "import engage.wiring.inbound;from engage.wiring import aws;aws.webhook_settings();"
    "from engage.inbound.payloads import parse_notification;"
    "parse_notification(json.load(open('events/whatsapp/status_delivered.json')))",
    "sender": "import engage.wiring.delivery",
    "metrics": "import engage.wiring.metrics",
}
ROUNDS = 7


def compile_sources() -> None:
    """Bytecode for the project's modules, as the layer's build ships it (layers/common/Makefile:
    Lambda cannot write .pyc to /opt, so a build without it compiles every module on every cold
    start). Timestamp-checked here, so later edits are never masked; the venv's packages have theirs."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "layers/common/python/engage"), str(ROOT / "functions")],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )


def timed(statements: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of `statements` in a fresh interpreter. CPU time is what a shared
    machine's load changes least (on an idle one the two are close)."""
    code = (
        "import time,os,json;os.environ.setdefault('AWS_DEFAULT_REGION','us-east-1');"
        f"t=time.perf_counter();c=time.process_time();{statements};"
        "print((time.perf_counter()-t)*1000,(time.process_time()-c)*1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-400:])
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def cold_start(folder: str, template: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """`import functions.<folder>.app` and what its first request loads, with the plain values of
    the environment the template gives the function (tracing off, pydantic's plugin scan off, ...);
    the webhook's first request also reads its settings, given placeholder values here."""
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    logical_id = f"{folder.capitalize()}Function"
    for props in (template["Globals"]["Function"], template["Resources"][logical_id]["Properties"]):
        variables = props.get("Environment", {}).get("Variables", {})
        env.update({k: v for k, v in variables.items() if isinstance(v, str)})
    if folder == "webhook":
        env.update(WHATSAPP_APP_SECRET="s", WHATSAPP_VERIFY_TOKEN="t", WHATSAPP_PHONE_NUMBER_ID="1", ENGAGE_TABLE="e")
    first = FIRST_REQUEST.get(folder)
    return f"import functions.{folder}.app" + (f";{first}" if first else ""), env


def import_times(rounds: int = ROUNDS) -> dict[str, list[tuple[float, float]]]:
    """Every function's cold start, plus boto3 alone, in fresh interpreters from compiled bytecode
    (`compile_sources`). Rounds interleave the functions, so a burst of load on a shared machine
    slows one run of each rather than every run of one."""
    from local.infra import load_template

    compile_sources()
    template = load_template()
    plain = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    cases = {"(boto3 alone)": ("import boto3.dynamodb.conditions", plain)}
    for folder in FUNCTIONS:
        if (ROOT / "functions" / folder / "app.py").is_file():
            cases[folder] = cold_start(folder, template)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (statements, env) in cases.items():
            runs[name].append(timed(statements, env))
    return runs


def print_imports() -> None:
    load = os.getloadavg()[0]
    runs = import_times()
    print(
        f"cold starts (`import functions.<name>.app` + what its first request loads, fresh interpreters from .pyc, "
        f"{ROUNDS} interleaved rounds; load average {load:.1f} on {os.cpu_count()} CPUs):"
    )
    print(table_row("", "CPU median", "CPU min", "wall median", widths=(16, 12, 10, 12)))
    for name, samples in runs.items():
        cpu = [c for _, c in samples]
        wall = statistics.median(w for w, _ in samples)
        mark = "  (goal < 300 ms)" if name == "webhook" else ""
        row = table_row(
            name, f"{statistics.median(cpu):.0f} ms", f"{min(cpu):.0f} ms", f"{wall:.0f} ms", widths=(16, 12, 10, 12)
        )
        print(row + mark)


# ---------------------------------------------------------------- report
def run(recipients: int = RECIPIENTS) -> None:
    """`python -m bench cost`; `python -m bench imports-time` prints the import times alone."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.getLogger("local").setLevel(logging.ERROR)
    from local.infra import load_template

    template = load_template()
    ingress = webhook_ingress(template)
    result = run_campaign(recipients)
    n = result["messages"]
    usage: dict[str, Usage] = result["usage"]
    counted = result["counted"]
    print(
        f"one campaign, {n:,} messages through the local runtime in {result['wall']:.0f} s; counted: "
        f"sent {counted.get('sent', 0)}, delivered {counted.get('delivered', 0)}, read {counted.get('read', 0)}, "
        f"replied {counted.get('replied', 0)}; webhook ingress: {ingress}"
    )
    widths = (24, 9, 9, 9, 9, 9, 9, 9, 9)
    print(
        table_row("per message", "invoc.", "DDB req", "WRU tbl", "WRU idx", "RRU", "SQS req", "ingress", widths=widths)
    )
    for name in sorted(usage, key=lambda k: -usage[k].wru_table - usage[k].wru_index):
        u = usage[name]
        ddb = sum(v for k, v in u.requests.items() if k.startswith("dynamodb."))
        sqs = sum(v for k, v in u.requests.items() if k.startswith("sqs."))
        print(
            table_row(
                name.removesuffix("Function"),
                *(f"{x / n:.3f}" for x in (u.invocations, ddb, u.wru_table, u.wru_index, u.rru, sqs, u.ingress)),
                widths=widths,
            )
        )
    print("\nwrite units per message by request and item (table + index), the biggest:")
    for name in sorted(usage):
        top = sorted(usage[name].wru_by_op.items(), key=lambda kv: -kv[1])[:6]
        if top:
            print(f"    {name.removesuffix('Function')}: " + ", ".join(f"{k} {v / n:.2f}" for k, v in top))
    print("\n$ per 1,000,000 messages (us-east-1 list prices)")
    heads = ("dynamodb", "lambda", "sqs+sns", "ingress", "logs+traces")
    widths = (24, 10, 10, 10, 10, 12, 10, 0, 0)
    print(table_row("function", *heads, "total", widths=widths))
    total: Counter[str] = Counter()
    for name in sorted(usage):
        cost = dollars(name, usage[name], n, ingress, traced(template, name))
        total.update(cost)
        print(table_row(name.removesuffix("Function"), *(cost[h] for h in heads), sum(cost.values()), widths=widths))
    print(table_row("all", *(total[h] for h in heads), sum(total.values()), widths=widths))
    webhook_posts = usage["WebhookFunction"].invocations / n if "WebhookFunction" in usage else 0.0
    replies = counted.get("replied", 0) / max(1, n)
    least = floor(n, webhook_posts, replies)
    all_in, floor_total = sum(total.values()), sum(least.values())
    print(
        f"\nfloor for the same guarantees ({webhook_posts:.2f} webhook POSTs and {replies:.2f} replies a message): "
        + ", ".join(f"{k} ${v:.2f}" for k, v in least.items())
        + f" = ${floor_total:.2f}"
    )
    print(f"all-in ${all_in:.2f} per 1,000,000 messages = {all_in / floor_total:.2f} x the floor (goal <= $8)")
    print(
        "model: Lambda 5 ms of own code per invocation + modelled AWS latency (DynamoDB 6 ms, transactions 14 ms, "
        "SQS 12 ms), sender batches one 300 ms Graph round trip; logs 320 B a invocation + EMF (webhook: "
        f"{webhook_emf_bytes():.0f} B a POST, buffered); "
        "X-Ray 5% sampled where the template traces"
    )
    print()
    print_imports()

"""The local runtime: the whole system on one machine, on embedded moto (`make dev`, `python -m local.runtime`).

`LocalRuntime` enters moto's `mock_aws()` in-process, creates the template's table, queues and topic
from `infra/template.yaml`, sets the functions' environment, imports the real handlers
(`functions.<folder>.app`) and serves, on one port:

- the HTTP API exactly as API Gateway HTTP API would route it (local/http_api.py);
- the fake WhatsApp Cloud API under `/_fake/graph/v25.0/` (local/fake_whatsapp.py), and there too the
  fake Conversions API (`<dataset>/events`, local/fake_conversions.py; `GET /_local/conversions`);
- `/_local/...`: drain, schedules on demand, outbox, fault injection;
- `/_s3/<bucket>/<key>`: the presigned links handlers hand out, with S3 event notifications delivered
  to the functions that ask for them (local/s3.py);
- group joins, leaves and messages (`POST /_local/groups/{wa group id}/join|leave|message?wa_id=`,
  local/fake_groups.py);
- the marketer console at `/app` from the built `console/dist` (local/console.py).

SQS and DynamoDB stream consumers (local/consumers.py) and the schedules (local/scheduling.py) run
on `POST /_local/drain` / `POST /_local/schedules/{name}`, and continuously in the background when
started with `background=True` (what `make dev` does). Use it in-process from tests, the demo and
benchmarks:

    with LocalRuntime() as runtime:
        httpx.get(runtime.url + "/v1/customers/491...", headers=runtime.bearer("marketer"))

moto is process-global: run one LocalRuntime per process at a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from engage.inbound.signature import verify
from local import console
from local.consumers import MotoStream, SqsConsumer, Stats, StreamConsumer, consumers_from_template
from local.fake_conversions import FakeConversions
from local.fake_whatsapp import FakeWhatsApp, GraphError
from local.functions import LocalFunction, build_functions
from local.http_api import (
    INTERNAL_ERROR,
    NOT_FOUND,
    UNAUTHORIZED,
    Request,
    Response,
    RouteTable,
    build_event,
    claims_for,
    json_response,
    map_result,
)
from local.s3 import LocalS3
from local.scheduling import Schedule, schedules_from_template
from local.wakeups import WAKEUPS

log = logging.getLogger("local.runtime")

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
GRAPH_VERSION = "v25.0"
PHONE_NUMBER_ID = "1234567890"
CONVERSIONS_DATASET_ID = "local-dataset"
BUSINESS_ACCOUNT_ID = "1234567890123"
DEFAULT_COUNTRY = "DE"
SECRETS = {
    "WHATSAPP_APP_SECRET": "local-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "local-verify-token",
    "WHATSAPP_ACCESS_TOKEN": "local-access-token",
    "CONVERSIONS_ACCESS_TOKEN": "local-conversions-token",
    "EVENTS_WEBHOOK_SECRET": "local-events-secret",
    "ENGAGE_ADMIN_TOKEN": "local-admin-token",
    "ENGAGE_MARKETER_TOKEN": "local-marketer-token",
}
#: Settings `make dev` takes from its own environment when set (else the local values above), so the
#: runtime can be pointed at a real test number: its secrets, ids and Graph API base, through a tunnel.
ENVIRONMENT_SETTINGS = (
    *SECRETS,
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_BASE",
    "ENGAGE_DEFAULT_COUNTRY",
    "ENGAGE_LINK_BASE_URL",
)
BASE_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "engage",
    "POWERTOOLS_METRICS_NAMESPACE": "Engage",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


# ------------------------------------------------------------------------------ moto, serialised

_AWS_LOCK = threading.RLock()


def _serialise_moto() -> Callable[[], None]:
    """moto's backends are not thread-safe; one lock around each emulated AWS call makes a conditional
    write atomic, as DynamoDB's are, while handlers themselves still run in parallel."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request
    if getattr(original, "_local_serialised", False):
        return lambda: None

    def process_request(self: Any, request: Any) -> Any:
        with _AWS_LOCK:
            WAKEUPS.observe(request)
            return original(self, request)

    process_request._local_serialised = True  # type: ignore[attr-defined]
    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    undo_clock = _fast_sqs_clock()
    undo_queries = _partition_queries()

    def undo() -> None:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]
        undo_clock()
        undo_queries()

    return undo


def _fast_sqs_clock() -> Callable[[], None]:
    """moto's SQS checks every message's visibility with a datetime-based clock on each call, which
    dominates a drain; the same clock from `time.time()` gives the same values several times faster."""
    import moto.sqs.models as sqs_models

    slow_seconds, slow_millis = sqs_models.unix_time, sqs_models.unix_time_millis

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else slow_seconds(dt)

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else slow_millis(dt)

    sqs_models.unix_time, sqs_models.unix_time_millis = unix_time, unix_time_millis  # type: ignore[assignment]

    def undo() -> None:
        sqs_models.unix_time, sqs_models.unix_time_millis = slow_seconds, slow_millis  # type: ignore[assignment]

    return undo


def _partition_queries() -> Callable[[], None]:
    """moto answers every Query by sorting the whole table and comparing each item's key, so a
    customer's send history costs more the more customers there are (tens of ms at 5,000). A Query
    on the table reads just its partition, as DynamoDB does; one on an index skips the table-wide
    sort (the query sorts its own results). Runs under `_AWS_LOCK`, so swapping `all_items` on the
    instance for one call is safe."""
    from moto.dynamodb.models.table import Table

    original = Table.query
    if getattr(original, "_local_partitioned", False):
        return lambda: None

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is None and hash_key is not None:
            partition = self.items.get(hash_key)
            if partition is None:
                candidates = []
            else:
                candidates = list(partition.values()) if self.range_key_attr else [partition]
        else:
            candidates = [
                item
                for partition in self.items.values()
                for item in (partition.values() if self.range_key_attr else [partition])
            ]
        self.all_items = lambda: candidates
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query._local_partitioned = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]

    def undo() -> None:
        Table.query = original  # type: ignore[method-assign]

    return undo


# ------------------------------------------------------------------------------------- runtime


class LocalRuntime:
    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        sender_workers: int = 1,
        sender_parallel_jobs: int = 3,
        retry_visibility: int = 0,
        secrets: dict[str, str] | None = None,
        phone_number_id: str = PHONE_NUMBER_ID,
        api_base: str | None = None,
        environment: dict[str, str] | None = None,
        log_level: str = "WARNING",
        handlers: dict[str, Callable[[dict[str, Any], Any], Any]] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.sender_workers = max(1, sender_workers)
        self.sender_parallel_jobs = max(1, sender_parallel_jobs)
        self.retry_visibility = retry_visibility
        self.secrets = {**SECRETS, **(secrets or {})}
        self.phone_number_id = phone_number_id
        self.api_base = api_base  # None: the fake WhatsApp of this runtime
        self.environment = dict(environment or {})  # set last, over the template's and the local values
        self.log_level = log_level
        self._overrides = dict(handlers or {})
        self.functions: dict[str, LocalFunction] = {}
        self.sqs_consumers: list[SqsConsumer] = []
        self.stream_consumers: list[StreamConsumer] = []
        self.schedules: list[Schedule] = []
        self.routes = RouteTable([])
        self.resources: Any = None
        self.fake: FakeWhatsApp | None = None
        self.conversions = FakeConversions()  # replaced by start() with the runtime's token and dataset
        self.s3: LocalS3 | None = None
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._saved_env: dict[str, str | None] = {}
        self._undo: list[Callable[[], None]] = []
        self._drain_lock = threading.Lock()
        self._background = False

    # -------------------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def graph_base(self) -> str:
        return f"{self.url}/_fake/graph/{GRAPH_VERSION}"

    @property
    def whatsapp_api_base(self) -> str:
        """Where the handlers send: the fake of this runtime unless `api_base` points elsewhere."""
        return self.api_base or self.graph_base

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], **kwargs: Any) -> LocalRuntime:
        """A runtime taking every setting of ENVIRONMENT_SETTINGS that `environ` sets (and is not
        empty), the local value for the rest (`make dev`)."""
        given = {k: environ[k] for k in ENVIRONMENT_SETTINGS if environ.get(k)}
        return cls(
            secrets={k: v for k, v in given.items() if k in SECRETS},
            phone_number_id=given.get("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID),
            api_base=given.get("WHATSAPP_API_BASE"),
            environment={k: v for k, v in given.items() if k in ("ENGAGE_DEFAULT_COUNTRY", "ENGAGE_LINK_BASE_URL")},
            **kwargs,
        )

    def bearer(self, group: str) -> dict[str, str]:
        """`{"authorization": "Bearer <token>"}` for "admin" or "marketer"."""
        return {"authorization": f"Bearer {self.secrets[f'ENGAGE_{group.upper()}_TOKEN']}"}

    def start(self, background: bool = False) -> LocalRuntime:
        """Builds everything and serves HTTP; `background=True` also polls consumers and fires schedules."""
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        try:
            self._set_up_aws()
            self._load_functions()
        except BaseException:
            self.stop()
            raise
        self._spawn(self._server.serve_forever, "local-http")
        self._background = background
        if background:
            self._spawn(self._poll_forever, "local-consumers")
            self._spawn(self._tick_schedules, "local-schedules")
        log.info("local runtime on %s", self.url)
        return self

    def _set_up_aws(self) -> None:
        import boto3
        from moto import mock_aws

        from engage import wiring
        from local.infra import create_resources, function_environment, load_template

        self._set_env(BASE_ENV)
        WAKEUPS.clear()
        self._undo.append(_serialise_moto())
        mock = mock_aws()
        mock.start()
        self._undo.append(mock.stop)
        self.template = load_template()
        self.session = boto3.Session(region_name=REGION)
        self.resources = create_resources(self.session, self.template, stage="local")
        env = function_environment(
            self.template,
            self.resources,
            {
                "WhatsAppPhoneNumberId": self.phone_number_id,
                "WhatsAppApiBase": self.whatsapp_api_base,
                # National-format numbers (0151 …) in the demo shop's country unless the environment
                # says otherwise (from_environment passes ENGAGE_DEFAULT_COUNTRY over this).
                "DefaultCountry": DEFAULT_COUNTRY,
                "ConversionsDatasetId": CONVERSIONS_DATASET_ID,
                "WhatsAppBusinessAccountId": BUSINESS_ACCOUNT_ID,
            },
            self.secrets,
        )
        env["POWERTOOLS_LOG_LEVEL"] = self.log_level
        env["ENGAGE_LINK_BASE_URL"] = self.url  # the sender's tracked links point back at this runtime
        env["ENGAGE_S3_PUBLIC_ENDPOINT"] = self.url + "/_s3"  # presigned links point at this runtime
        # Every environment shares this one Python process: more threads per batch than a few only
        # queue for the interpreter lock behind moto's work, and their sends leave late in bursts.
        env["ENGAGE_SENDER_PARALLEL_JOBS"] = str(self.sender_parallel_jobs)
        env.update(self.environment)
        self._set_env(env)
        observability = sys.modules.get("engage.core.observability")
        if observability is not None:  # imported before this runtime set the level (a benchmark, a test)
            observability.logger.setLevel(self.log_level)
        wiring.reset()
        self._undo.append(wiring.reset)
        from engage.core.time import set_clock

        self._undo.append(lambda: set_clock(None))  # a moved clock never outlives the runtime

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _load_functions(self) -> None:
        from local.infra import functions as template_functions

        resolve = self.resources.resolve
        self.functions = build_functions(self.template, resolve)
        for logical, handler in self._overrides.items():
            self.functions[logical].override = handler
        for function in self.functions.values():
            if function.folder == "sender":
                function.max_environments = self.sender_workers
            function.warm()
        spec = template_functions(self.template)
        self.routes = RouteTable.from_template(spec)
        arn_to_url = {self.resources.attrs[q]["Arn"]: url for q, url in self.resources.queues.items()}
        self.sqs_consumers, self.stream_consumers = consumers_from_template(
            self.functions,
            resolve,
            self.session.client("sqs"),
            self.session.client("dynamodbstreams"),
            arn_to_url,
            direct=MotoStream(self._moto_table, _AWS_LOCK),
        )
        for consumer in self.sqs_consumers:
            consumer.retry_visibility = self.retry_visibility
            if consumer.function.folder == "sender":
                consumer.set_concurrency(self.sender_workers)
        self.schedules = schedules_from_template(spec, resolve)
        self.s3 = LocalS3.from_template(self.session, self.functions, resolve)
        self._undo.append(self.s3.install())
        self.conversions = FakeConversions(
            access_token=self.secrets["CONVERSIONS_ACCESS_TOKEN"], dataset_id=CONVERSIONS_DATASET_ID
        )
        self.fake = FakeWhatsApp(
            access_token=self.secrets["WHATSAPP_ACCESS_TOKEN"],
            phone_number_id=self.phone_number_id,
            app_secret=self.secrets["WHATSAPP_APP_SECRET"],
        )

    def register(self, logical_id: str, handler: Callable[[dict[str, Any], Any], Any] | None) -> None:
        """Replaces a function's handler (tests); None restores the real one."""
        self.functions[logical_id].override = handler

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            if any(t.name == "local-http" for t in self._threads):
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------- requests
    def handle(self, request: Request) -> Response:
        """Answers one HTTP request (the server calls this from its threads)."""
        started = time.perf_counter()
        try:
            if request.path.startswith("/_fake/graph/"):
                response = self._graph(request)
            elif request.path.startswith("/_local"):
                response = self._control(request)
            elif request.path.startswith("/_s3/") and self.s3 is not None:
                response = self.s3.handle(request)
            elif console.is_console(request.path) and request.method in ("GET", "HEAD"):
                response = console.serve(request.path)
            else:
                response = self._api(request)
        except Exception:  # a bug in the runtime itself: answer like API Gateway, keep serving
            log.exception("local runtime failed on %s %s", request.method, request.path)
            response = INTERNAL_ERROR
        log.info(
            "%s %s -> %d (%.0f ms)",
            request.method,
            request.path,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _api(self, request: Request) -> Response:
        path = "/".join(unquote(s) for s in request.path.split("/"))
        found = self.routes.find(request.method, path)
        if found is None:
            return NOT_FOUND
        route, params = found
        claims = None
        if not route.open:
            claims = claims_for(
                request,
                {"admin": self.secrets["ENGAGE_ADMIN_TOKEN"], "marketer": self.secrets["ENGAGE_MARKETER_TOKEN"]},
            )
            if claims is None:
                return UNAUTHORIZED
        function = self.functions[route.function]
        if not function.exists:
            return json_response(
                501, {"message": "Not Implemented", "detail": f"functions/{function.folder}/app.py does not exist yet"}
            )
        if request.method == "POST" and path == "/webhook" and self.fake is not None:
            self._learn(request)
        event = build_event(request, route, params, claims)
        try:
            result = function.invoke(event)
        except Exception:
            log.exception("%s raised on %s", route.function, route.route_key)
            return INTERNAL_ERROR
        return map_result(result)

    def _learn(self, request: Request) -> None:
        """The fake WhatsApp reuses the identities of correctly signed notifications the app receives."""
        signature = next((v for k, v in request.headers if k.lower() == "x-hub-signature-256"), "")
        if not verify(request.body, signature, [self.secrets["WHATSAPP_APP_SECRET"]]):
            return
        try:
            self._fake().learn(json.loads(request.body))
        except ValueError:
            pass

    def _graph(self, request: Request) -> Response:
        assert self.fake is not None
        parts = [p for p in request.path.split("/") if p][2:]  # after _fake/graph
        if request.method == "POST" and len(parts) == 3 and parts[2] == "events":
            status, payload = self.conversions.handle(parts[1], request.query, request.body)
            return json_response(status, payload)
        if request.method == "POST" and len(parts) == 3 and parts[2] in ("messages", "marketing_messages"):
            headers = {k.lower(): v for k, v in request.headers}
            return self.fake.handle_send(parts[1], headers, request.body, endpoint=parts[2])
        if len(parts) in (2, 3) and (parts[-1] in ("groups", "invite_link", "join_requests") or len(parts) == 2):
            headers = {k.lower(): v for k, v in request.headers}
            return self.fake.handle_groups(request.method, parts[1:], headers, request.body)
        return GraphError(100, f"Unsupported {request.method} request to {request.path}.").response()

    def post_webhook(self, body: bytes, headers: dict[str, str]) -> int:
        """Delivers a notification to `POST /webhook` in-process, as WhatsApp would over HTTP."""
        request = Request("POST", "/webhook", "", list(headers.items()), body, source_ip="173.252.127.1")
        return self.handle(request).status

    # ----------------------------------------------------------------------------- control
    def _control(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p][1:]
        query = {k: v[-1] for k, v in parse_qs(request.query).items()}
        key = (request.method, parts[0] if parts else "", parts[1] if len(parts) > 1 else "")
        routes: dict[tuple[str, str, str], Callable[[], Response]] = {
            ("GET", "", ""): lambda: json_response(200, self.describe()),
            ("GET", "outbox", ""): lambda: json_response(200, {"messages": self._fake().messages()}),
            ("GET", "conversions", ""): lambda: json_response(200, self.conversions.state()),
            ("DELETE", "outbox", ""): self._clear_outbox,
            ("POST", "drain", ""): lambda: json_response(200, self.drain(**_drain_args(query))),
            ("GET", "schedules", ""): lambda: json_response(200, {"schedules": self._schedule_list()}),
            ("GET", "whatsapp", ""): lambda: json_response(200, self._fake().state()),
            ("GET", "whatsapp", "faults"): lambda: json_response(200, {"faults": self._fake().state()["faults"]}),
            ("POST", "whatsapp", "faults"): lambda: self._add_faults(request.body),
            ("DELETE", "whatsapp", "faults"): self._clear_faults,
            ("GET", "whatsapp", "behaviour"): lambda: json_response(200, self._fake().state()["behaviour"]),
            ("POST", "whatsapp", "behaviour"): lambda: self._set_behaviour(request.body),
            ("POST", "clock", ""): lambda: self._set_clock(query.get("now")),
            ("DELETE", "clock", ""): lambda: self._set_clock(None),
        }
        if key[:2] == ("POST", "groups") and len(parts) == 3:
            return self._group_action(unquote(parts[1]), parts[2], query)
        if key == ("GET", "groups", ""):
            return json_response(200, {"groups": self._fake().groups.state(), "sent": self._fake().groups.sent})
        if key[:2] == ("POST", "schedules") and len(parts) == 2:
            return self._run_schedule_request(unquote(parts[1]), query.get("now"))
        action = routes.get(key)
        return (
            action()
            if action
            else json_response(
                404, {"message": "Not Found", "detail": f"no local route {request.method} {request.path}"}
            )
        )

    def _group_action(self, group_id: str, action: str, query: dict[str, str]) -> Response:
        """`POST /_local/groups/{id}/join|leave|message?wa_id=&text=`: what a person does in WhatsApp."""
        from local.fake_groups import GroupsError

        groups = self._fake().groups
        wa_id = query.get("wa_id", "")
        try:
            if action == "join":
                return json_response(200, groups.join(group_id, wa_id))
            if action == "leave":
                return json_response(200, groups.leave(group_id, wa_id))
            if action == "message":
                return json_response(200, groups.message(group_id, wa_id, query.get("text", "")))
        except GroupsError as error:
            return json_response(error.http_status, {"message": error.message})
        return json_response(404, {"message": f"no group action {action!r}; join, leave or message"})

    def _set_clock(self, now: str | None) -> Response:
        from engage.core.time import iso, parse_iso, set_clock, utcnow

        try:
            set_clock(parse_iso(now) if now else None)
        except ValueError:
            return json_response(400, {"message": f"now must be an ISO-8601 time, got {now!r}"})
        return json_response(200, {"now": iso(utcnow())})

    def _fake(self) -> FakeWhatsApp:
        assert self.fake is not None
        return self.fake

    def _clear_outbox(self) -> Response:
        self._fake().clear_outbox()
        return json_response(200, {"messages": []})

    def _add_faults(self, body: bytes) -> Response:
        try:
            data = json.loads(body or b"{}")
            faults = data if isinstance(data, list) else [data]
            added = [self._fake().add_fault(f) for f in faults]
        except (ValueError, TypeError) as error:
            return json_response(400, {"message": f"bad fault: {error}"})
        return json_response(200, {"added": len(added), "faults": self._fake().state()["faults"]})

    def _clear_faults(self) -> Response:
        self._fake().clear_faults()
        return json_response(200, {"faults": []})

    def _set_behaviour(self, body: bytes) -> Response:
        try:
            behaviour = self._fake().set_behaviour(json.loads(body or b"{}"))
        except (ValueError, TypeError) as error:
            return json_response(400, {"message": f"bad behaviour: {error}"})
        return json_response(200, asdict(behaviour))

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "functions": {k: {"folder": f.folder, "loaded": f.exists} for k, f in self.functions.items()},
            "routes": len(self.routes.routes),
            "queues": [c.name for c in self.sqs_consumers],
            "streams": [c.name for c in self.stream_consumers],
            "schedules": self._schedule_list(),
            "whatsapp_api_base": self.whatsapp_api_base,
        }

    # ------------------------------------------------------------------------------ drain
    def drain(self, max_rounds: int = 50, max_seconds: float = 120.0, max_wait: float = 10.0) -> dict[str, Any]:
        """Runs consumers and webhook deliveries until a whole round finds nothing to do.

        When a handler delayed a message (a visibility backoff or DelaySeconds) that wakes up within
        `max_wait` seconds, the drain sleeps until then and goes on; later ones are left for later.
        """
        started = time.monotonic()
        totals: dict[str, Stats] = {c.name: Stats() for c in self._consumers()}
        webhooks = {"delivered": 0, "failed": 0}
        rounds, idle, waited, quiet = 0, False, 0.0, 0
        # With the background poller running, one of its batches may finish just after our round
        # looked: ask for two quiet rounds in a row then.
        needed = 2 if self._background else 1
        with self._drain_lock:
            while rounds < max_rounds and time.monotonic() - started < max_seconds:
                rounds += 1
                if self._round(totals, webhooks):
                    quiet = 0
                    continue
                quiet += 1
                if quiet < needed:
                    continue
                due = WAKEUPS.next_due()
                if due is None or due > max_wait or time.monotonic() - started + due > max_seconds:
                    idle = True
                    break
                time.sleep(due + 0.05)
                waited += due + 0.05
        return {
            "idle": idle,
            "rounds": rounds,
            "elapsed_ms": int((time.monotonic() - started) * 1000),
            "waited_ms": int(waited * 1000),
            "delayed_later": WAKEUPS.pending(),
            "consumers": {name: stats.as_dict() for name, stats in totals.items()},
            "whatsapp_webhooks": webhooks | {"pending": len(self._fake().pending)},
            "s3_events": {
                "delivered": self.s3.delivered if self.s3 else 0,
                "failed": self.s3.failed if self.s3 else 0,
                "pending": len(self.s3.pending) if self.s3 else 0,
            },
            "skipped": sorted({c.name for c in self._consumers() if not c.function.exists}),
        }

    def _consumers(self) -> list[SqsConsumer | StreamConsumer]:
        return [*self.sqs_consumers, *self.stream_consumers]

    def _round(self, totals: dict[str, Stats], webhooks: dict[str, int]) -> int:
        work = 0
        for consumer in self._consumers():
            stats = consumer.drain()
            totals[consumer.name].add(stats)
            work += stats.batches
        delivered = self._fake().deliver_pending(self.post_webhook)
        webhooks["delivered"] += delivered["delivered"]
        webhooks["failed"] += delivered["failed"]
        s3_events = self.s3.deliver() if self.s3 is not None else 0
        self.trim_streams()
        return work + delivered["delivered"] + s3_events

    def _moto_table(self) -> Any:
        """The table in moto's backend (its stream is what the stream consumers read)."""
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][REGION].tables.get(self.resources.table_name)

    def trim_streams(self) -> int:
        """Drops the stream records every loaded stream consumer has read (DynamoDB keeps them 24 hours;
        kept forever, a long session's memory would grow with every write). Returns how many."""
        from local.moto_fixes import trim_stream

        readers = [c for c in self.stream_consumers if c.function.exists]
        positions = [c.position for c in readers]
        if not readers or any(p is None for p in positions):
            return 0
        with _AWS_LOCK:
            table = self._moto_table()
            return trim_stream(table, min(p for p in positions if p is not None)) if table is not None else 0

    def _poll_forever(self, interval: float = 0.25) -> None:
        while not self._stop.wait(interval):
            try:
                self._round(
                    {c.name: Stats() for c in self._consumers()},
                    {"delivered": 0, "failed": 0},
                )
            except Exception:
                log.exception("background consumers failed; going on")

    # -------------------------------------------------------------------------- schedules
    def _schedule_list(self) -> list[dict[str, Any]]:
        return [
            {
                "name": s.name,
                "function": s.function,
                "expression": s.expression,
                "next_fire": s.next_fire.strftime("%Y-%m-%dT%H:%M:%SZ") if s.next_fire else None,
            }
            for s in self.schedules
        ]

    def schedule(self, name: str) -> Schedule | None:
        return next((s for s in self.schedules if s.name == name), None)

    def run_schedule(self, name: str, now: datetime | None = None) -> Any:
        """Invokes the schedule's target with its Input at `now` (default: the current time)."""
        schedule = self.schedule(name)
        if schedule is None:
            raise KeyError(name)
        function = self.functions[schedule.function]
        return function.invoke(schedule.payload(now or _now()))

    def _run_schedule_request(self, name: str, now_text: str | None) -> Response:
        schedule = self.schedule(name)
        if schedule is None:
            known = sorted(s.name for s in self.schedules)
            return json_response(404, {"message": f"no schedule {name!r}", "known": known})
        try:
            now = _parse_now(now_text) if now_text else _now()
        except ValueError:
            return json_response(400, {"message": f"now={now_text!r} is not an ISO-8601 time"})
        if not self.functions[schedule.function].exists:
            return json_response(
                501, {"message": "Not Implemented", "detail": f"{schedule.function} has no app.py yet"}
            )
        try:
            result = self.run_schedule(name, now)
        except Exception as error:
            log.exception("schedule %s failed", name)
            return json_response(
                500, {"error": {"code": "function_error", "type": type(error).__name__, "message": str(error)}}
            )
        return json_response(200, result, [("x-engage-scheduled-time", now.strftime("%Y-%m-%dT%H:%M:%SZ"))])

    def _tick_schedules(self) -> None:
        self.arm_schedules(_now())
        while not self._stop.wait(1.0):
            self.tick(_now())

    def tick(self, now: datetime) -> list[tuple[str, datetime]]:
        """One beat of the background schedules at `now` (the local clock, moved or not).

        A schedule whose next fire time the clock has jumped past by more than a period, or moved
        back before by more than a period, is re-armed from `now` (as after downtime, Scheduler does
        not catch up); otherwise each due schedule fires once, at its own fire time."""
        for schedule in self.schedules:
            if schedule.next_fire is None:
                continue
            upcoming = schedule.following(now)
            after_next = schedule.following(schedule.next_fire)
            if (upcoming is not None and schedule.next_fire > upcoming) or (
                after_next is not None and after_next <= now
            ):
                schedule.next_fire = upcoming
        return self.fire_due(now)

    def arm_schedules(self, start: datetime) -> None:
        """Sets each enabled schedule's first fire time after `start`."""
        for schedule in self.schedules:
            schedule.next_fire = schedule.following(start) if schedule.enabled else None

    def fire_due(self, now: datetime) -> list[tuple[str, datetime]]:
        """Runs every schedule due at `now` once, at its own fire time; returns what ran."""
        fired = []
        for schedule in self.schedules:
            if schedule.next_fire is None or schedule.next_fire > now:
                continue
            fire, schedule.next_fire = schedule.next_fire, schedule.following(max(schedule.next_fire, now))
            if not self.functions[schedule.function].exists:
                continue
            fired.append((schedule.name, fire))
            try:
                result = self.run_schedule(schedule.name, fire)
                summary = json.dumps(result, default=str)[:200]
                log.info("schedule %s at %s -> %s", schedule.name, fire.isoformat(), summary)
            except Exception as error:  # Scheduler would retry per RetryPolicy; locally: log and go on
                log.warning("schedule %s at %s failed: %s", schedule.name, fire.isoformat(), error)
        return fired


def _now() -> datetime:
    """The local clock (`POST /_local/clock` moves it): what schedules run at when no `now` is given."""
    from engage.core.time import utcnow

    return utcnow()


def _parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace(" ", "+").replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _drain_args(query: dict[str, str]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if "max_rounds" in query:
        args["max_rounds"] = int(query["max_rounds"])
    if "max_seconds" in query:
        args["max_seconds"] = float(query["max_seconds"])
    if "max_wait" in query:
        args["max_wait"] = float(query["max_wait"])
    return args


# ------------------------------------------------------------------------------ HTTP server


def _handler_class(runtime: LocalRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "engage-local"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            parsed = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parsed.path or "/",
                query=parsed.query,
                headers=list(self.headers.items()),
                body=self._read_body(),
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            response = runtime.handle(request)
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            log.debug(format, *args)

    return Handler


# ------------------------------------------------------------------------------------- CLI

BANNER = """\
Engage local runtime on {url}  (embedded moto, fake WhatsApp at {graph})
  sends go to: {api_base}
  tokens:  admin={admin}  marketer={marketer}
  console: {url}/app  (sign in with a token above)
  try:     curl -s '{url}/webhook?hub.mode=subscribe&hub.verify_token={verify}&hub.challenge=42'
           curl -s -H 'authorization: Bearer {marketer}' {url}/v1/customers/4915123456789
           curl -s -X POST {url}/_local/drain        curl -s {url}/_local/outbox
           curl -s -X POST '{url}/_local/schedules/release-deferred?now=2026-11-23T10:00:00Z'
  handlers not written yet: {missing}
Ctrl-C stops."""


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.runtime", description="Engage on one machine (make dev).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sender-workers", type=int, default=1)
    parser.add_argument("--sender-parallel-jobs", type=int, default=3, help="jobs of a batch in flight at once")
    parser.add_argument("--log-level", default="INFO", help="handlers' POWERTOOLS_LOG_LEVEL and the runtime's own")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runtime = LocalRuntime.from_environment(
        os.environ,
        port=args.port,
        host=args.host,
        sender_workers=args.sender_workers,
        sender_parallel_jobs=args.sender_parallel_jobs,
        log_level=args.log_level.upper(),
    )
    signal.signal(signal.SIGTERM, _interrupt)
    runtime.start(background=True)
    missing = [f"functions/{f.folder}/app.py" for f in runtime.functions.values() if not f.exists]
    print(
        BANNER.format(
            url=runtime.url,
            graph=runtime.graph_base,
            api_base=runtime.whatsapp_api_base,
            admin=runtime.secrets["ENGAGE_ADMIN_TOKEN"],
            marketer=runtime.secrets["ENGAGE_MARKETER_TOKEN"],
            verify=runtime.secrets["WHATSAPP_VERIFY_TOKEN"],
            missing=", ".join(missing) or "none",
        ),
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        runtime.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

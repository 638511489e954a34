"""S3, locally: the template's buckets on moto, presigned links served by the runtime, and ObjectCreated
notifications delivered to the functions whose `S3` events ask for them, as Lambda would.

moto keeps the objects. Links the handlers presign point at the runtime (`/_s3/<bucket>/<key>?X-Amz-...`,
from `ENGAGE_S3_PUBLIC_ENDPOINT`): a PUT there stores the body in moto, a GET reads it back. moto cannot
invoke Lambda functions without Docker, so its notification hook is replaced: an object created in a
bucket (by a presigned PUT or by a handler's own PutObject) whose key matches a function's `S3` event
filter becomes a pending Lambda S3 event, delivered on the next drain (asynchronous invocation: a
failed delivery is retried twice, as Lambda does, then logged and dropped).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from local.functions import LocalFunction
from local.http_api import Request, Response, json_response

log = logging.getLogger("local.s3")
ASYNC_ATTEMPTS = 3  # the first try and Lambda's two retries of an asynchronous invocation


@dataclass
class S3Target:
    function: LocalFunction
    bucket: str
    events: list[str]
    prefix: str = ""
    suffix: str = ""

    def wants(self, bucket: str, key: str, event_name: str) -> bool:
        kinds = [e.removeprefix("s3:").removesuffix("*") for e in self.events]
        return (
            bucket == self.bucket
            and key.startswith(self.prefix)
            and key.endswith(self.suffix)
            and any(event_name.removeprefix("s3:").startswith(k) for k in kinds)
        )


@dataclass
class Pending:
    target: S3Target
    event: dict[str, Any]
    attempts: int = 0


@dataclass
class LocalS3:
    session: Any
    targets: list[S3Target] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.client = self.session.client("s3")

    @classmethod
    def from_template(cls, session: Any, functions: dict[str, LocalFunction], resolve: Callable[[Any], Any]) -> LocalS3:
        local = cls(session)
        for function in functions.values():
            for event in function.events.values():
                if event.get("Type") != "S3":
                    continue
                props = resolve(event["Properties"])
                events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
                rules = {
                    r["Name"].lower(): r["Value"] for r in props.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                }
                local.targets.append(
                    S3Target(function, str(props["Bucket"]), events, rules.get("prefix", ""), rules.get("suffix", ""))
                )
        return local

    # ------------------------------------------------------------------ notifications
    def install(self) -> Callable[[], None]:
        """Replaces moto's notification hook; returns the undo."""
        from moto.s3 import notifications

        original = notifications.send_event

        def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
            name = getattr(event_name, "value", str(event_name))
            for target in self.targets:
                if target.wants(bucket.name, key.name, name):
                    body = notifications._get_s3_event(event_name, bucket, key, "local")
                    with self._lock:
                        self.pending.append(Pending(target, body))

        notifications.send_event = send_event  # type: ignore[assignment]

        def undo() -> None:
            notifications.send_event = original  # type: ignore[assignment]

        return undo

    def deliver(self) -> int:
        """Invokes the functions for the events pending now; returns how many were delivered."""
        with self._lock:
            batch, self.pending = self.pending, []
        done = 0
        for item in batch:
            if not item.target.function.exists:
                continue
            item.attempts += 1
            try:
                item.target.function.invoke(item.event)
            except Exception:
                log.exception("%s failed on an S3 event", item.target.function.logical_id)
                if item.attempts < ASYNC_ATTEMPTS:
                    with self._lock:
                        self.pending.append(item)
                else:
                    self.failed += 1
                continue
            done += 1
        self.delivered += done
        return done

    # ------------------------------------------------------------------ presigned links
    def handle(self, request: Request) -> Response:
        """`PUT|GET /_s3/<bucket>/<key>?X-Amz-...`: what a presigned link does (signatures are not checked)."""
        query = parse_qs(request.query)
        if "X-Amz-Signature" not in query and "Signature" not in query:
            return json_response(403, {"message": "only presigned links are served here"})
        parts = request.path.split("/", 3)  # "", "_s3", bucket, key
        if len(parts) < 4 or not parts[3]:
            return json_response(400, {"message": "give /_s3/<bucket>/<key>"})
        bucket, key = unquote(parts[2]), unquote(parts[3])
        if request.method == "PUT":
            content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "binary/octet-stream")
            self.client.put_object(Bucket=bucket, Key=key, Body=request.body, ContentType=content_type)
            return Response(200, [("etag", '"local"')], b"")
        if request.method == "GET":
            try:
                found = self.client.get_object(Bucket=bucket, Key=key)
            except self.client.exceptions.NoSuchKey:
                return json_response(404, {"message": "NoSuchKey"})
            headers = [("content-type", found.get("ContentType") or "application/octet-stream")]
            disposition = query.get("response-content-disposition")
            if disposition:
                headers.append(("content-disposition", disposition[-1]))
            return Response(200, headers, found["Body"].read())
        return json_response(405, {"message": f"{request.method} is not served for presigned links"})

"""The local runtime as a WSGI app: schemathesis' cases go through the template's routes, the JWT
stand-in and API Gateway's payload-2.0 events to the real handlers, in this process, on moto.

It counts every request it answers and keeps each 5xx with the failure behind it (the exception
and the innermost line of our own code), so a run can say which class of input broke what."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local.http_api import Request
from local.runtime import LocalRuntime

OUR_CODE = ("/layers/common/python/engage/", "/functions/", "/local/")


@dataclass
class ServerError:
    method: str
    path: str
    status: int
    content_type: str
    failure: str  # "ValueError: Missing boundary ..."
    where: str  # "engage/http/customers.py:97 in upsert_customer" (our innermost frame), else the library's

    def line(self) -> str:
        return f"{self.method} {self.path} -> {self.status} [{self.content_type}] {self.failure} at {self.where}"


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[ServerError] = field(default_factory=list)


class FailureLog(logging.Handler):
    """Keeps the exception the runtime logs when a function raises (it then answers 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.last = record.exc_info[1]


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/layers/common/python/", "/contract/"):
        if marker in filename:
            return filename.split(marker)[-1]
    return filename


def describe(error: BaseException | None) -> tuple[str, str]:
    """The failure and where: the innermost frame, and the innermost frame of our own code if different."""
    if error is None:
        return "no exception logged", "?"
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return f"{type(error).__name__}: {str(error)[:160]}", "?"
    ours = [f for f in frames if any(p in f.filename for p in OUR_CODE) and "/local/" not in f.filename]
    inner = frames[-1]
    where = f"{_short(inner.filename)}:{inner.lineno} in {inner.name}"
    if ours and ours[-1] is not inner:
        where += f" (our code: {_short(ours[-1].filename)}:{ours[-1].lineno} in {ours[-1].name})"
    return f"{type(error).__name__}: {str(error)[:160]}", where


class RuntimeApp:
    """WSGI in front of `LocalRuntime.handle`; `runtime` is set once the runtime has started."""

    def __init__(self) -> None:
        self.runtime: LocalRuntime | None = None
        self.tally = Tally()
        self._failures = FailureLog()
        logging.getLogger("local.runtime").addHandler(self._failures)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self.runtime is not None, "start the runtime first"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = [(k[5:].replace("_", "-").lower(), str(v)) for k, v in environ.items() if k.startswith("HTTP_")]
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type:
            headers.append(("content-type", content_type))
        # WSGI hands PATH_INFO over percent-decoded; API Gateway's rawPath (and the runtime) keep it encoded.
        path = environ.get("RAW_URI", "").split("?")[0] or environ.get("PATH_INFO", "/")
        request = Request(
            method=environ["REQUEST_METHOD"],
            path=path,
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
        )
        self._failures.last = None
        response = self.runtime.handle(request)
        self.tally.requests += 1
        if response.status >= 500:
            failure, where = describe(self._failures.last)
            self.tally.server_errors.append(
                ServerError(request.method, request.path, response.status, content_type, failure, where)
            )
        start_response(f"{response.status} -", response.headers)
        return [b"" if request.method == "HEAD" else response.body]

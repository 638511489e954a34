"""The API's resolver and its one place that maps errors to `{"error": {"code", "message"}}`.

Before a route's body is parsed or validated, two gates run in this order:

1. the route's role: a route declares it once, as a `caller: Marketer` (or `Admin`) parameter; the
   resolver reads that declaration into its role table and checks the caller's groups first, so an
   unknown caller gets 401 and a marketer on an admin route 403, whatever the body holds;
2. the body: JSON only (`application/json`, UTF-8), parseable, and holding only encodable text.
   Anything else is a 415 or 400 in the error shape, never a 500 further down. A route marked
   `@takes_raw(media)` takes a body of that media type instead (or besides JSON, `also_json=True`),
   which it reads itself (`raw_body`).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from engage.core.errors import EngageError
from engage.core.observability import logger
from engage.http import auth

MAX_BODY_DEPTH = 64  # nesting of objects and arrays in a request body


class UnsupportedMediaType(EngageError):
    status = 415
    code = "unsupported_media_type"


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    error: dict = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": error})


def describe_validation(errors: list[dict]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",))
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------- role table
_ROLE_CHECKS: dict[Callable[..., Any], Callable[[APIGatewayProxyEventV2], str]] = {
    auth.marketer: lambda event: auth.require(event, "marketer"),
    auth.admin: lambda event: auth.require(event, "admin"),
}
_role_table: dict[Callable[..., Any], Callable[[APIGatewayProxyEventV2], str] | None] = {}


def route_role(func: Callable[..., Any]) -> Callable[[APIGatewayProxyEventV2], str] | None:
    """The role check a route declares through its `Marketer`/`Admin` parameter (None: open route)."""
    if func not in _role_table:
        check = None
        hints = typing.get_type_hints(func, include_extras=True)
        for name in inspect.signature(func).parameters:
            for meta in getattr(hints.get(name), "__metadata__", ()):
                if isinstance(meta, Depends) and meta.dependency in _ROLE_CHECKS:
                    check = _ROLE_CHECKS[meta.dependency]
        _role_table[func] = check
    return _role_table[func]


# ---------------------------------------------------------------------------- body gate
@dataclass(frozen=True)
class RawBody:
    media: str  # e.g. text/csv
    also_json: bool  # a JSON body is still accepted (and checked as JSON)
    utf8: bool  # the raw body must be UTF-8 text (False: the route sniffs its encoding itself)


def takes_raw(
    media: str, *, also_json: bool = False, utf8: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a route that takes a raw body of `media` (read with `raw_body`) instead of, or besides, JSON."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        func.raw_body = RawBody(media, also_json, utf8)  # type: ignore[attr-defined]
        return func

    return mark


def _media(event: APIGatewayProxyEventV2) -> str:
    headers = event.raw_event.get("headers") or {}
    declared = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    return declared.split(";")[0].strip().lower()


def raw_body(event: APIGatewayProxyEventV2, media: str = "text/csv") -> bytes | None:
    """The raw bytes of a `media` body (None when the body is of another type)."""
    if _media(event) != media:
        return None
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise EngageError("the body is not valid base64", code="invalid_body") from error
    return body.encode("utf-8", errors="surrogateescape")


def check_raw_body(event: APIGatewayProxyEventV2, spec: RawBody) -> None:
    """The gate of a raw-body route: that media type, and UTF-8 text where the route asks for it."""
    raw = raw_body(event, spec.media)
    if raw is None:
        headers = event.raw_event.get("headers") or {}
        declared = ", ".join(str(v) for k, v in headers.items() if k.lower() == "content-type").strip()
        raise UnsupportedMediaType(f"send the body as {spec.media}, not {declared[:80] or 'nothing'!r}")
    if spec.utf8:
        try:
            raw.decode("utf-8")
        except UnicodeError as error:
            raise EngageError("the body is not UTF-8 text", code="invalid_body") from error


def check_body(event: APIGatewayProxyEventV2) -> None:
    """Raises a 415 or 400 EngageError unless the body is absent or UTF-8 JSON with encodable text."""
    body = event.body
    headers = event.raw_event.get("headers")
    if headers is None:
        headers = event.raw_event["headers"] = {}
    names = [k for k in headers if k.lower() == "content-type"]
    declared = ", ".join(str(headers[k]) for k in names).strip()
    if declared and body:
        media, *params = [p.strip() for p in declared.split(";")]
        if media.lower() != "application/json":
            raise UnsupportedMediaType(f"send the body as application/json, not {declared[:80]!r}")
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
                raise UnsupportedMediaType("send the body as UTF-8 (charset=utf-8)")
    for name in names:  # one spelling for the validation that follows
        del headers[name]
    headers["content-type"] = "application/json"
    if not body:
        return
    try:
        raw = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode("utf-8")
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeError) as error:
        raise EngageError("the body is not UTF-8 text", code="invalid_body") from error
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise EngageError("the body is not JSON", code="invalid_json") from error
    check_values(parsed)


def check_values(value: Any) -> None:
    """Refuses lone surrogates (`"\\udb39"`: no UTF-8 form, unstorable) in any key or string, and
    nesting deeper than MAX_BODY_DEPTH. Iterative, so no body can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_BODY_DEPTH:
            raise EngageError(f"the body nests deeper than {MAX_BODY_DEPTH} levels", code="invalid_body")
        if isinstance(item, str):
            texts: list[str] = [item]
        elif isinstance(item, dict):
            texts = list(item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            texts = []
            stack.extend((v, depth + 1) for v in item)
        else:
            continue
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise EngageError("the body holds a lone surrogate (\\ud800-\\udfff)", code="invalid_body") from error


class EngageResolver(APIGatewayHttpResolver):
    """Runs the role and body gates after routing and before the route's validation."""

    check_bodies = True

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> Any:
        try:
            event = self.current_event
            check = route_role(route.func)
            if check is not None:
                check(event)
            spec: RawBody | None = getattr(route.func, "raw_body", None)
            if spec and not (spec.also_json and _media(event) != spec.media):
                check_raw_body(event, spec)
            elif self.check_bodies:
                check_body(event)
        except EngageError as error:
            logger.info("request refused", extra={"code": error.code, "status": error.status})
            return self._response_builder_class(
                response=error_response(error.status, error.code, error.message, error.details),
                serializer=self._serializer,
                route=route,
            )
        return super()._call_route(route, route_arguments)


def build_resolver(*, check_bodies: bool = True) -> APIGatewayHttpResolver:
    """`check_bodies=False` skips the JSON body gate, for routes that keep whatever body they are sent
    (the WhatsApp webhook did; it now reads its two routes without a resolver, docs/webhook.md)."""
    app = EngageResolver(enable_validation=True)
    app.check_bodies = check_bodies

    @app.exception_handler(EngageError)
    def _engage_error(error: EngageError) -> Response:
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return error_response(error.status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        message = describe_validation(list(error.errors()))
        logger.info("request invalid", extra={"detail": message})
        return error_response(422, "validation_error", message)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(
            404,
            "not_found",
            f"no route for {app.current_event.request_context.http.method} {app.current_event.raw_path}",
        )

    return app

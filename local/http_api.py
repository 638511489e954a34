"""API Gateway HTTP API, locally: the template's `HttpApi` routes, payload-2.0 events, the JWT stand-in.

Routing follows API Gateway: a route matches method and path (`{param}` is one segment, `{param+}`
the rest); the most specific route wins (a literal segment beats a parameter at the first place
they differ); `ANY` matches every method. No match answers 404 `{"message":"Not Found"}`. Routes with
`Auth: {Authorizer: NONE}` are open; every other route needs `Authorization: Bearer <token>`, where the
local admin and marketer tokens stand in for Cognito JWTs and become the authorizer's claims
(`cognito:groups` as API Gateway renders arrays: `"[admin]"`). Anything else answers 401
`{"message":"Unauthorized"}`.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from engage.core.time import utcnow

TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|graphql|yaml|x-yaml|x-ndjson))(;.*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # "/v1/customers/{ref}"
    function: str  # logical id
    open: bool  # Auth: {Authorizer: NONE}

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when `path` matches (an empty dict for a literal route), else None."""
        wanted = self.segments
        given = [s for s in path.split("/") if s]
        params: dict[str, str] = {}
        for index, segment in enumerate(wanted):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = given[index:]
                if not rest:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if index >= len(given):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = given[index]
            elif segment != given[index]:
                return None
        return params if len(given) == len(wanted) else None

    def specificity(self) -> tuple[int, ...]:
        """Higher sorts first: literal segments beat parameters, position by position; greedy last."""
        ranks = []
        for segment in self.segments:
            if segment.endswith("+}"):
                ranks.append(0)
            elif segment.startswith("{"):
                ranks.append(1)
            else:
                ranks.append(2)
        return (*ranks, 1 if self.method != "ANY" else 0)


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: r.specificity(), reverse=True)

    @classmethod
    def from_template(cls, functions: dict[str, dict[str, Any]]) -> RouteTable:
        routes = []
        for logical, spec in functions.items():
            for event in spec["events"].values():
                if event.get("Type") != "HttpApi":
                    continue
                props = event.get("Properties", {})
                auth = props.get("Auth") or {}
                routes.append(
                    Route(
                        method=str(props.get("Method", "ANY")).upper(),
                        path=str(props.get("Path", "/")),
                        function=logical,
                        open=auth.get("Authorizer") == "NONE",
                    )
                )
        return cls(routes)

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method not in (method.upper(), "ANY"):
                continue
            params = route.match(path)
            if params is not None:
                return route, params
        return None


@dataclass(frozen=True)
class Request:
    """What the HTTP server received."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


def claims_for(request: Request, tokens: dict[str, str]) -> dict[str, str] | None:
    """The JWT claims the bearer token stands for (`tokens`: group -> token), or None."""
    header = next((v for k, v in request.headers if k.lower() == "authorization"), "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    for group, expected in tokens.items():
        if expected and hmac.compare_digest(token.strip(), expected):
            return {
                "cognito:groups": f"[{group}]",
                "email": f"{group}@local.engage",
                "sub": f"local-{group}",
                "token_use": "id",
                "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_local",
            }
    return None


def _joined_headers(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in pairs:
        name = key.lower()
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers, cookies


def _query_parameters(raw: str) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params or None


def _body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if TEXT_TYPES.match(content_type or ""):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def build_event(request: Request, route: Route, params: dict[str, str], claims: dict[str, str] | None) -> dict:
    """The payload-2.0 event API Gateway would hand the function (stage `$default`)."""
    headers, cookies = _joined_headers(request.headers)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    body, is_base64 = _body(request.body, headers.get("content-type", ""))
    now = utcnow()  # the local clock (POST /_local/clock), like every handler's
    host = headers.get("host", "127.0.0.1")
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(request.query)
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body is not None:
        event["body"] = body
    return event


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "application/json"), *(headers or [])], json.dumps(payload).encode())


def map_result(result: Any) -> Response:
    """A handler's return value as API Gateway (payload 2.0) turns it into an HTTP response."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # Anything else is taken as the JSON body of a 200 (API Gateway's inferred format).
        return json_response(200, result)
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name).lower(), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
    if body and not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return Response(int(result["statusCode"]), headers, body)


NOT_FOUND = json_response(404, {"message": "Not Found"})
UNAUTHORIZED = json_response(401, {"message": "Unauthorized"}, [("www-authenticate", "Bearer")])
INTERNAL_ERROR = json_response(500, {"message": "Internal Server Error"})

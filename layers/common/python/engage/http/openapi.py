"""The API's OpenAPI document: what Powertools derives from the routes, plus what it cannot see.

Powertools documents each route's path parameters, body model and return model. This module adds
the rest in one place, so the routers stay plain:
- the bearer security scheme (a Cognito JWT in AWS, the local tokens in `make dev`), and the routes
  that are open (the webhook, shop events, click redirects, this document);
- every error a route can answer, in our shape `{"error": {"code", "message"}}` (401 and 429 may
  also come from API Gateway itself, as `{"message": ...}`);
- the success statuses other than 200 (201 created, 202 accepted, 204 no content);
- the query parameters and raw bodies a route reads from the event;
- the routes served by other functions or by API Gateway alone: `GET/POST /webhook`, `GET/HEAD /r/{code}`.

`python -m functions.api.openapi` writes the committed `openapi.json`; `make lint` fails when it drifts.
"""

from __future__ import annotations

import copy
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

TITLE = "Engage API"
VERSION = "1"
DESCRIPTION = (
    "WhatsApp customer engagement: customers, tags and rules, segments, templates, campaigns and metrics. "
    "Every route under /v1 except POST /v1/events needs `Authorization: Bearer <token>`: a Cognito ID token "
    "(JWT) whose `cognito:groups` hold `marketer` or `admin` (locally, the admin and marketer tokens of "
    '`make dev`). Errors are `{"error": {"code": ..., "message": ...}}` with a stable `code`.'
)
BEARER = "bearer"
OPEN: list[dict[str, list[str]]] = []  # an operation's `security: []`: no token needed

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable and machine-readable, e.g. `customer_not_found`"},
                "message": {"type": "string", "description": "for people"},
                "details": {"type": "object", "additionalProperties": True},
            },
            "additionalProperties": True,
        }
    },
    "additionalProperties": True,
}
GATEWAY_ERROR_SCHEMA: dict[str, Any] = {
    "title": "GatewayError",
    "description": "API Gateway's own answer (no or a bad token, throttled), before the function runs.",
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
    "additionalProperties": True,
}

ERROR_DESCRIPTIONS = {
    400: "Bad request: a value is out of range or malformed, or the body is not UTF-8 JSON",
    401: "No valid credentials (a missing or bad token, a bad signature)",
    403: "Signed in, but the role does not allow this",
    404: "No such resource",
    409: "Conflicts with the resource's state (a duplicate, a campaign already launched)",
    415: "Unsupported content type",
    422: "The body or a parameter does not match the schema",
    429: "Too many requests",
}
FROM_GATEWAY = {401, 429}  # API Gateway may answer these itself, in its own shape

# Statuses a route answers instead of (or besides) 200, keyed by (method, path as documented).
SUCCESS: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/v1/customers"): {200: "Updated", 201: "Created"},
    ("post", "/v1/tags"): {201: "Created"},
    ("patch", "/v1/tags/{name}"): {200: "Done", 202: "Accepted: a large rename continues in the background"},
    ("delete", "/v1/tags/{name}"): {200: "Done", 202: "Accepted: a large delete continues in the background"},
    ("post", "/v1/customers/{ref}/tags"): {200: "Already held", 201: "Added"},
    ("post", "/v1/rules"): {201: "Created"},
    ("post", "/v1/segments"): {201: "Created"},
    ("delete", "/v1/segments/{segment_id}"): {204: "Deleted"},
    ("post", "/v1/campaigns"): {201: "Created"},
    ("post", "/v1/campaigns/{campaign_id}/follow-up"): {201: "Follow-up campaign created"},
    ("post", "/v1/campaigns/{campaign_id}/retarget"): {201: "Retargeting round created (a draft)"},
    ("post", "/v1/templates"): {200: "Replaced", 201: "Created"},
    ("post", "/v1/events"): {200: "A duplicate: already recorded", 202: "Recorded"},
    ("post", "/v1/coupons/pools"): {201: "Created"},
    ("post", "/v1/customers/{ref}/referral"): {200: "The customer's code", 201: "Made now"},
    ("post", "/v1/circles"): {201: "Created"},
    ("post", "/v1/circles/{circle_id}/posts"): {201: "Scheduled in every open group of the circle"},
    ("post", "/v1/groups"): {202: "Accepted: pending until WhatsApp confirms the group"},
    ("delete", "/v1/groups/{group_id}"): {202: "Accepted: closed here, deleted in WhatsApp by the sender"},
    ("post", "/v1/groups/{group_id}/invite-link"): {202: "Accepted: the sender resets the link"},
    ("post", "/v1/groups/{group_id}/join-requests/approve"): {202: "Accepted: the sender approves them"},
    ("post", "/v1/groups/{group_id}/posts"): {201: "Scheduled"},
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_LIMIT = {"type": "integer", "minimum": 1, "maximum": 500}
_ISO = {"type": "string", "format": "date-time"}
_REASON = _query("reason", "why, for the audit log", {"type": "string", "maxLength": 500})

# Query parameters read from the event rather than declared in the route's signature.
QUERY: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("get", "/v1/tags"): [
        _query("counts", "`true` adds each tag's member count", {"type": "string", "enum": ["true", "false"]})
    ],
    ("get", "/v1/tags/log"): [
        _query("tag", "only this tag", {"type": "string", "maxLength": 100}),
        _query("customer", "only this customer (wa_id, user_id or internal id)", {"type": "string", "maxLength": 128}),
        _query("since", "from (ISO 8601; default 30 days ago)", _ISO),
        _query("until", "to (ISO 8601; default now)", _ISO),
        _query("limit", "page size (default 50)", _LIMIT),
        _query("cursor", "the `cursor` of the previous page", {"type": "string", "maxLength": 2048}),
    ],
    ("delete", "/v1/tags/{name}"): [_REASON],
    ("delete", "/v1/customers/{ref}/tags/{tag}"): [_REASON],
    ("get", "/v1/templates/{name}"): [_query("language", "the template's language, e.g. `de`", {"type": "string"})],
    ("get", "/v1/metrics/daily"): [
        _query("from", "first day (YYYY-MM-DD)", {"type": "string", "format": "date"}),
        _query("to", "last day (YYYY-MM-DD)", {"type": "string", "format": "date"}),
    ],
    ("get", "/v1/groups"): [_query("circle_id", "only this circle's groups", {"type": "string", "maxLength": 48})],
    ("get", "/v1/groups/{group_id}/health"): [
        _query("day", "the day (YYYY-MM-DD; default yesterday)", {"type": "string", "format": "date"})
    ],
    ("get", "/v1/circles/{circle_id}/health"): [
        _query("day", "the day (YYYY-MM-DD; default yesterday)", {"type": "string", "format": "date"})
    ],
    ("get", "/v1/alerts"): [
        _query("status", "open or closed alerts only", {"type": "string", "enum": ["open", "closed"]}),
        _query("limit", "at most this many (default 100)", _LIMIT),
    ],
    ("get", "/v1/customers"): [
        _query("q", "start of a name or phone number (`asha`, `+49 151`)", {"type": "string", "maxLength": 100}),
        _query("tag", "only customers holding this tag", {"type": "string", "maxLength": 120}),
        _query("segment_id", "only members of this saved segment", {"type": "string", "maxLength": 64}),
        _query("consent", "marketing consent given or not", {"type": "string", "enum": ["true", "false"]}),
        _query("limit", "page size (default 50)", {"type": "integer", "minimum": 1, "maximum": 200}),
        _query("cursor", "the `cursor` of the previous page", {"type": "string", "maxLength": 4096}),
    ],
    ("get", "/v1/customers/{ref}/history"): [
        _query("limit", "page size (default 50)", {"type": "integer", "minimum": 1, "maximum": 200}),
        _query("cursor", "the `cursor` of the previous page", {"type": "string", "maxLength": 4096}),
    ],
    ("get", "/v1/settings/log"): [
        _query("limit", "page size (default 50)", {"type": "integer", "minimum": 1, "maximum": 200}),
        _query("cursor", "the `cursor` of the previous page", {"type": "string", "maxLength": 4096}),
    ],
}

_OBJECT = {"type": "object", "additionalProperties": True}
_RULE_BODY = {
    "required": True,
    "description": "A tagging rule (docs/tags.md): keyword or behaviour conditions and the tag it applies.",
    "content": {"application/json": {"schema": _OBJECT}},
}
_SETTINGS_BODY = {
    "required": True,
    "description": "Settings by area (`sending`, `metrics`, `tagging`, `replies`, `customers`) and an optional "
    "`reason` for the log (docs/settings.md). PUT replaces the whole document, PATCH changes the values given.",
    "content": {"application/json": {"schema": _OBJECT}},
}
# Bodies read raw from the event (signed, or validated by the use case) rather than by a model.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/v1/settings"): _SETTINGS_BODY,
    ("patch", "/v1/settings"): _SETTINGS_BODY,
    ("post", "/v1/rules"): _RULE_BODY,
    ("put", "/v1/rules/{rule_id}"): _RULE_BODY,
    ("post", "/v1/events"): {
        "required": True,
        "description": "A shop event (order, cart, click, view, customer update; docs/webhook.md). Signed by the "
        "shop with `X-Engage-Signature: sha256=<hex HMAC of the raw body>`, or sent with a marketer token.",
        "content": {"application/json": {"schema": _OBJECT}},
    },
    ("post", "/v1/coupons/pools/{pool_id}/codes"): {
        "required": True,
        "description": "The shop's codes as CSV: one a row in the first column (a `code` header is skipped).",
        "content": {"text/csv": {"schema": {"type": "string", "maxLength": 1_000_000}}},
    },
}

_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_HTML = {"text/html": {"schema": {"type": "string"}}}


def _error(status: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": "#/components/schemas/Error"}
    if status in FROM_GATEWAY:
        schema = {"anyOf": [schema, {"$ref": "#/components/schemas/GatewayError"}]}
    return {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _error(status) for status in statuses}


# Routes other functions (or API Gateway) serve, and the document's own routes.
STATIC_PATHS: dict[str, dict[str, Any]] = {
    "/webhook": {
        "get": {
            "tags": ["WhatsApp webhook"],
            "summary": "Meta's verification handshake",
            "operationId": "verify_webhook",
            "security": OPEN,
            "parameters": [
                _query("hub.mode", "`subscribe`", {"type": "string"}),
                _query("hub.verify_token", "the verify token set in Meta's app dashboard", {"type": "string"}),
                _query("hub.challenge", "echoed back when the token matches", {"type": "string"}),
            ],
            "responses": {"200": {"description": "The challenge, echoed", "content": _TEXT}, **_errors(403, 429)},
        },
        "post": {
            "tags": ["WhatsApp webhook"],
            "summary": "A signed WhatsApp Cloud API notification (messages, statuses, account updates)",
            "description": "Stored once and acknowledged with 200; what cannot be understood is kept for "
            "inspection (docs/webhook.md). Anything not signed with the app secret is 401 and stored nowhere.",
            "operationId": "receive_webhook",
            "security": OPEN,
            "parameters": [
                {
                    "name": "X-Hub-Signature-256",
                    "in": "header",
                    "required": True,
                    "description": "`sha256=<hex HMAC-SHA256 of the raw body with the app secret>`",
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _OBJECT}}},
            "responses": {
                "200": {
                    "description": "Received",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["received"],
                                "properties": {"received": {"type": "boolean"}},
                                "additionalProperties": True,
                            }
                        }
                    },
                },
                **_errors(401, 429),
            },
        },
    },
    "/r/{code}": {
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "tags": ["Links"],
            "summary": "A tracked link in a campaign message: counts the click and redirects",
            "operationId": "follow_link",
            "security": OPEN,
            "responses": {
                "302": {
                    "description": "To the campaign's link",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "404": {"description": "Unknown or expired link", "content": _HTML},
                **_errors(429),
            },
        },
        "head": {
            "tags": ["Links"],
            "summary": "A link preview's probe: redirects, counts nothing",
            "operationId": "probe_link",
            "security": OPEN,
            "responses": {
                "302": {
                    "description": "To the campaign's link",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "404": {"description": "Unknown or expired link"},
                **_errors(429),
            },
        },
    },
    "/openapi.json": {
        "get": {
            "tags": ["Documentation"],
            "summary": "This document",
            "operationId": "openapi_document",
            "security": OPEN,
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": _OBJECT}}}},
        }
    },
    "/v1/openapi.json": {
        "get": {
            "tags": ["Documentation"],
            "summary": "This document (the same as /openapi.json)",
            "operationId": "openapi_document_v1",
            "security": OPEN,
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": _OBJECT}}}},
        }
    },
    "/docs": {
        "get": {
            "tags": ["Documentation"],
            "summary": "Swagger UI for this document (assets served inline, no CDN)",
            "operationId": "swagger_ui",
            "security": OPEN,
            "responses": {"200": {"description": "An HTML page", "content": _HTML}},
        }
    },
}

# Signed by the shop instead of a token (`X-Engage-Signature`: over the body, or over the code for the check).
OPEN_ROUTES = {("post", "/v1/events"), ("get", "/v1/coupons/{code}")}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _tag_of(path: str) -> str:
    part = path.split("/")[2] if path.startswith("/v1/") else "other"
    return {
        "customers": "Customers",
        "tags": "Tags",
        "rules": "Rules",
        "segments": "Segments",
        "templates": "Templates",
        "campaigns": "Campaigns",
        "metrics": "Metrics",
        "alerts": "Metrics",
        "events": "Shop events",
        "coupons": "Rewards",
        "referrals": "Rewards",
    }.get(part, "Other")


def _complete(method: str, path: str, operation: dict[str, Any]) -> None:
    key = (method, path)
    operation.setdefault("tags", [_tag_of(path)])
    responses: dict[str, Any] = operation.setdefault("responses", {})
    ok = responses.get("200")
    if key in SUCCESS:
        wanted = SUCCESS[key]
        responses.pop("200", None)
        for status, description in wanted.items():
            entry: dict[str, Any] = {"description": description}
            if status != 204 and ok and "content" in ok:
                entry["content"] = copy.deepcopy(ok["content"])
            responses[str(status)] = entry
    known = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    extra = [p for p in QUERY.get(key, []) if p["name"] not in known]
    if extra:
        operation["parameters"] = [*operation.get("parameters", []), *copy.deepcopy(extra)]
    if key in BODIES and "requestBody" not in operation:
        operation["requestBody"] = copy.deepcopy(BODIES[key])
    if key in OPEN_ROUTES:
        operation["security"] = OPEN
    responses.update(_errors(*ERROR_DESCRIPTIONS))
    operation["responses"] = dict(sorted(responses.items()))


def build_document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The whole API's OpenAPI 3.1 document, as a JSON-ready dict (stable: keys in a fixed order)."""
    schema = app.get_openapi_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes={
            BEARER: HTTPBearer(
                bearerFormat="JWT",
                description="A Cognito ID token whose `cognito:groups` hold `marketer` or `admin` "
                "(locally: the admin or marketer token of `make dev`).",
            )
        },
        security=[{BEARER: []}],
    )
    document: dict[str, Any] = schema.model_dump(by_alias=True, exclude_none=True, mode="json")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)  # our 422 is in the error shape, not Powertools' default
    schemas["Error"] = ERROR_SCHEMA
    schemas["GatewayError"] = GATEWAY_ERROR_SCHEMA
    paths: dict[str, Any] = document.setdefault("paths", {})
    for path, item in paths.items():
        for method in METHODS:
            if method in item:
                _complete(method, path, item[method])
    for path, item in STATIC_PATHS.items():
        paths.setdefault(path, copy.deepcopy(item))
    document["paths"] = dict(sorted(paths.items()))
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document

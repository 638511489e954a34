"""Factories for event variants; the base shapes come from events/ files."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.conftest import load_event


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    groups: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for `method path`, from events/api/get_customer.json."""
    event = load_event("api/get_customer")
    event["routeKey"] = f"{method} {path}"
    stage_path = f"/{event['requestContext']['stage']}{path}"  # a named stage prefixes rawPath
    event["rawPath"] = stage_path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = stage_path
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    event["headers"] = {"content-type": "application/json", **(headers or {})}
    event["pathParameters"] = None
    if groups is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"] = {
            "jwt": {
                "claims": {"cognito:groups": f"[{groups}]", "email": f"{groups.split()[0]}@example.com"},
                "scopes": None,
            }
        }
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if text is not None and base64_body:
        event["body"] = base64.b64encode(text.encode()).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = text
        event["isBase64Encoded"] = False
    return event

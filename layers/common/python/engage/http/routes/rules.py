"""/v1/rules: tagging rules (keyword, behaviour window, attribute threshold, order effects).

A bad rule is refused with the reason (400 `bad_rule`). Default rules can be edited and switched
off (`"enabled": false`) but not deleted.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core.errors import Invalid, NotFound
from engage.core.time import utcnow
from engage.http.auth import require
from engage.tagging import service as tagging

router = APIGatewayHttpRouter()


def service() -> tagging.Tagging:
    return tagging.ready(wiring.tagging.ports(), utcnow())


def body() -> dict[str, Any]:
    try:
        data = router.current_event.json_body
    except ValueError as error:
        raise Invalid("rule refused: the body is not JSON", code="bad_rule") from error
    if not isinstance(data, dict):
        raise Invalid("rule refused: the body must be a JSON object", code="bad_rule")
    return data


@router.get("/v1/rules")
def list_rules() -> dict:
    require(router.current_event, "marketer")
    rules = sorted(service().rules.all(), key=lambda r: r.id)
    return {"rules": [r.model_dump(mode="json") for r in rules], "count": len(rules)}


@router.post("/v1/rules")
def create_rule() -> Response[dict]:
    who = require(router.current_event, "marketer")
    rule = tagging.create_rule(service(), body(), by=who, now=utcnow())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=rule.model_dump(mode="json"))


@router.get("/v1/rules/<rule_id>")
def get_rule(rule_id: str) -> dict:
    require(router.current_event, "marketer")
    rule = service().rules.get(rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id!r}", code="rule_not_found")
    return rule.model_dump(mode="json")


@router.put("/v1/rules/<rule_id>")
def put_rule(rule_id: str) -> dict:
    who = require(router.current_event, "marketer")
    return tagging.replace_rule(service(), rule_id, body(), by=who, now=utcnow()).model_dump(mode="json")


@router.delete("/v1/rules/<rule_id>")
def delete_rule(rule_id: str) -> dict:
    require(router.current_event, "marketer")
    tagging.delete_rule(service(), rule_id)
    return {"deleted": rule_id}

"""/v1/tags (catalog, health, log, bulk), /v1/customers/{ref}/tags (hand tagging) and /v1/rules.

Catalog changes (create, rename, delete) are `admin` only; everything else needs `marketer`.
A bad rule is refused with the reason (400 `bad_rule`). Default rules can be edited and switched
off (`"enabled": false`) but not deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field

from engage import wiring
from engage.core.errors import Invalid, NotFound
from engage.core.time import parse_iso, utcnow
from engage.http.auth import Admin, Marketer
from engage.http.cursors import seal, unseal
from engage.http.customers import find_customer
from engage.tagging import service as tagging
from engage.tagging.catalog import TagDefinition, TagIn, TagPatch, health_report, normalise_tag

router = APIGatewayHttpRouter()


def service() -> tagging.Tagging:
    return tagging.ready(wiring.tagging.ports(), utcnow())


def created(body: Any) -> Response[dict]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def accepted_or_ok(result: dict[str, Any]) -> Response[dict]:
    status = 200 if result.get("state") == "done" else 202
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=result)


def query(name: str, default: str | None = None) -> str | None:
    params = router.current_event.query_string_parameters or {}
    return params.get(name, default)


class TagsOut(BaseModel):
    tags: list[dict[str, Any]]
    count: int


class TagOut(TagDefinition):
    count: int


class TagLogOut(BaseModel):
    entries: list[dict[str, Any]]
    cursor: str | None


class CustomerTagsOut(BaseModel):
    customer_id: str
    tags: list[dict[str, Any]]


class TagRemovedOut(BaseModel):
    customer_id: str
    tag: str
    removed: bool


class RulesOut(BaseModel):
    rules: list[dict[str, Any]]
    count: int


class RuleDeletedOut(BaseModel):
    deleted: str


# ---------------------------------------------------------------------------- catalog
@router.get("/v1/tags")
def list_tags(caller: Marketer) -> TagsOut:
    t = service()
    definitions = sorted(t.catalog.all(fresh=True).values(), key=lambda d: d.name)
    rows = [d.model_dump() for d in definitions]
    if query("counts") == "true":
        for row in rows:
            row["count"] = t.memberships.count(row["name"])
    return TagsOut(tags=rows, count=len(rows))


@router.post("/v1/tags")
def create_tag(body: TagIn, caller: Admin) -> Response[dict]:
    definition = tagging.create_tag(service(), body, by=caller, now=utcnow())
    return created(definition.model_dump())


@router.get("/v1/tags/health")
def tag_health(caller: Marketer) -> dict[str, Any]:
    t = service()
    definitions = list(t.catalog.all(fresh=True).values())
    counts = {d.name: t.memberships.count(d.name) for d in definitions}
    return health_report(definitions, counts, wiring.tagging.reads().customer_count(), utcnow())


LOG_YEARS = (2000, 9998)


@router.get("/v1/tags/log")
def tag_log(caller: Marketer) -> TagLogOut:
    now = utcnow()
    tag = normalise_tag(unquote(query("tag") or "")) if query("tag") else None
    customer_id = (
        find_customer(wiring.customers.repository(), query("customer") or "").id if query("customer") else None
    )
    try:
        since = parse_iso(query("since") or "") if query("since") else now - timedelta(days=30)
        until = parse_iso(query("until") or "") if query("until") else now
        limit = int(query("limit", "50") or 50)
    except ValueError as error:
        raise Invalid(f"bad query parameter: {error}", code="bad_query") from error
    if not 1 <= limit <= 500:
        raise Invalid("limit must be between 1 and 500", code="bad_query")
    if not (LOG_YEARS[0] <= since.year and until.year <= LOG_YEARS[1]):  # the log is read day by day
        raise Invalid(f"since and until must fall in the years {LOG_YEARS[0]}-{LOG_YEARS[1]}", code="bad_query")
    scope = f"tags/log|{customer_id or ''}|{tag or ''}"
    rows, cursor = wiring.tagging.log().entries(
        since=since, until=until, tag=tag, customer_id=customer_id, limit=limit, cursor=unseal(query("cursor"), scope)
    )
    return TagLogOut(entries=rows, cursor=seal(cursor, scope))


@router.post("/v1/tags/bulk")
def bulk_tags(body: tagging.BulkIn, caller: Marketer) -> dict[str, Any]:

    def resolve(ref: str) -> str:
        return find_customer(wiring.customers.repository(), ref).id

    return tagging.bulk(service(), body, resolve, by=caller, now=utcnow())


@router.get("/v1/tags/<name>")
def get_tag(name: str, caller: Marketer) -> TagOut:
    t = service()
    definition = tagging.get_definition(t, unquote(name))
    return TagOut(**definition.model_dump(), count=t.memberships.count(definition.name))


@router.patch("/v1/tags/<name>")
def patch_tag(name: str, body: TagPatch, caller: Admin) -> Response[dict]:
    return accepted_or_ok(tagging.update_tag(service(), unquote(name), body, by=caller, now=utcnow()))


@router.delete("/v1/tags/<name>")
def delete_tag(name: str, caller: Admin) -> Response[dict]:
    result = tagging.delete_tag(service(), unquote(name), by=caller, reason=query("reason") or "", now=utcnow())
    return accepted_or_ok(result)


# ---------------------------------------------------------------------------- one customer's tags
class HandTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    tag: str = Field(min_length=3, max_length=120)
    reason: str = Field(default="", max_length=300)


@router.get("/v1/customers/<ref>/tags")
def get_customer_tags(ref: str, caller: Marketer) -> CustomerTagsOut:
    customer = find_customer(wiring.customers.repository(), unquote(ref))
    return CustomerTagsOut(customer_id=customer.id, tags=tagging.customer_tags(service(), customer.id, utcnow()))


@router.post("/v1/customers/<ref>/tags")
def add_customer_tag(ref: str, body: HandTagIn, caller: Marketer) -> Response[dict]:
    customer = find_customer(wiring.customers.repository(), unquote(ref))
    change, applied = tagging.hand_change(
        service(), customer.id, body.tag, action="add", by=caller, reason=body.reason, now=utcnow()
    )
    return Response(
        status_code=201 if applied else 200,
        content_type=content_types.APPLICATION_JSON,
        body={"customer_id": customer.id, "tag": change.tag, "added": applied},
    )


@router.delete("/v1/customers/<ref>/tags/<tag>")
def remove_customer_tag(ref: str, tag: str, caller: Marketer) -> TagRemovedOut:
    customer = find_customer(wiring.customers.repository(), unquote(ref))
    change, applied = tagging.hand_change(
        service(), customer.id, unquote(tag), action="remove", by=caller, reason=query("reason") or "", now=utcnow()
    )
    return TagRemovedOut(customer_id=customer.id, tag=change.tag, removed=applied)


# ---------------------------------------------------------------------------- rules
def rule_body() -> dict[str, Any]:
    try:
        data = router.current_event.json_body
    except ValueError as error:
        raise Invalid("rule refused: the body is not JSON", code="bad_rule") from error
    if not isinstance(data, dict):
        raise Invalid("rule refused: the body must be a JSON object", code="bad_rule")
    return data


@router.get("/v1/rules")
def list_rules(caller: Marketer) -> RulesOut:
    rules = sorted(service().rules.all(), key=lambda r: r.id)
    return RulesOut(rules=[r.model_dump(mode="json") for r in rules], count=len(rules))


@router.post("/v1/rules")
def create_rule(caller: Marketer) -> Response[dict]:
    rule = tagging.create_rule(service(), rule_body(), by=caller, now=utcnow())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=rule.model_dump(mode="json"))


@router.get("/v1/rules/<rule_id>")
def get_rule(rule_id: str, caller: Marketer) -> dict[str, Any]:
    rule = service().rules.get(rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id!r}", code="rule_not_found")
    return rule.model_dump(mode="json")


@router.put("/v1/rules/<rule_id>")
def put_rule(rule_id: str, caller: Marketer) -> dict[str, Any]:
    return tagging.replace_rule(service(), rule_id, rule_body(), by=caller, now=utcnow()).model_dump(mode="json")


@router.delete("/v1/rules/<rule_id>")
def delete_rule(rule_id: str, caller: Marketer) -> RuleDeletedOut:
    tagging.delete_rule(service(), rule_id)
    return RuleDeletedOut(deleted=rule_id)

"""/v1/tags (catalog, health, log, bulk) and /v1/customers/{ref}/tags (hand tagging).

Catalog changes (create, rename, delete) are `admin` only; everything else needs `marketer`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field

from engage import wiring
from engage.core.errors import Invalid
from engage.core.time import parse_iso, utcnow
from engage.http.auth import require
from engage.http.routes.customers import find_customer
from engage.tagging import service as tagging
from engage.tagging.catalog import TagIn, TagPatch, health_report, normalise_tag

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


# ---------------------------------------------------------------------------- catalog
@router.get("/v1/tags")
def list_tags() -> dict:
    require(router.current_event, "marketer")
    t = service()
    definitions = sorted(t.catalog.all(fresh=True).values(), key=lambda d: d.name)
    rows = [d.model_dump() for d in definitions]
    if query("counts") == "true":
        for row in rows:
            row["count"] = t.memberships.count(row["name"])
    return {"tags": rows, "count": len(rows)}


@router.post("/v1/tags")
def create_tag(body: TagIn) -> Response[dict]:
    who = require(router.current_event, "admin")
    definition = tagging.create_tag(service(), body, by=who, now=utcnow())
    return created(definition.model_dump())


@router.get("/v1/tags/health")
def tag_health() -> dict:
    require(router.current_event, "marketer")
    t = service()
    definitions = list(t.catalog.all(fresh=True).values())
    counts = {d.name: t.memberships.count(d.name) for d in definitions}
    return health_report(definitions, counts, wiring.tagging.reads().customer_count(), utcnow())


@router.get("/v1/tags/log")
def tag_log() -> dict:
    require(router.current_event, "marketer")
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
    rows, cursor = wiring.tagging.log().entries(
        since=since, until=until, tag=tag, customer_id=customer_id, limit=limit, cursor=query("cursor")
    )
    return {"entries": rows, "cursor": cursor}


@router.post("/v1/tags/bulk")
def bulk_tags(body: tagging.BulkIn) -> dict:
    who = require(router.current_event, "marketer")

    def resolve(ref: str) -> str:
        return find_customer(wiring.customers.repository(), ref).id

    return tagging.bulk(service(), body, resolve, by=who, now=utcnow())


@router.get("/v1/tags/<name>")
def get_tag(name: str) -> dict:
    require(router.current_event, "marketer")
    t = service()
    definition = tagging.get_definition(t, unquote(name))
    return {**definition.model_dump(), "count": t.memberships.count(definition.name)}


@router.patch("/v1/tags/<name>")
def patch_tag(name: str, body: TagPatch) -> Response[dict]:
    who = require(router.current_event, "admin")
    return accepted_or_ok(tagging.update_tag(service(), unquote(name), body, by=who, now=utcnow()))


@router.delete("/v1/tags/<name>")
def delete_tag(name: str) -> Response[dict]:
    who = require(router.current_event, "admin")
    result = tagging.delete_tag(service(), unquote(name), by=who, reason=query("reason") or "", now=utcnow())
    return accepted_or_ok(result)


# ---------------------------------------------------------------------------- one customer's tags
class HandTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str = Field(min_length=3, max_length=120)
    reason: str = Field(default="", max_length=300)


@router.get("/v1/customers/<ref>/tags")
def get_customer_tags(ref: str) -> dict:
    require(router.current_event, "marketer")
    customer = find_customer(wiring.customers.repository(), unquote(ref))
    return {"customer_id": customer.id, "tags": tagging.customer_tags(service(), customer.id, utcnow())}


@router.post("/v1/customers/<ref>/tags")
def add_customer_tag(ref: str, body: HandTagIn) -> Response[dict]:
    who = require(router.current_event, "marketer")
    customer = find_customer(wiring.customers.repository(), unquote(ref))
    change, applied = tagging.hand_change(
        service(), customer.id, body.tag, action="add", by=who, reason=body.reason, now=utcnow()
    )
    return Response(
        status_code=201 if applied else 200,
        content_type=content_types.APPLICATION_JSON,
        body={"customer_id": customer.id, "tag": change.tag, "added": applied},
    )


@router.delete("/v1/customers/<ref>/tags/<tag>")
def remove_customer_tag(ref: str, tag: str) -> dict:
    who = require(router.current_event, "marketer")
    customer = find_customer(wiring.customers.repository(), unquote(ref))
    change, applied = tagging.hand_change(
        service(), customer.id, unquote(tag), action="remove", by=who, reason=query("reason") or "", now=utcnow()
    )
    return {"customer_id": customer.id, "tag": change.tag, "removed": applied}

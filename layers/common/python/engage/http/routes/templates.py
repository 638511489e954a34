"""/v1/templates: the approved WhatsApp templates, linted when saved."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.campaigns.templates import Template, TemplateIn, lint_template
from engage.core.errors import NotFound
from engage.core.time import iso, utcnow
from engage.http.auth import require

router = APIGatewayHttpRouter()


@router.get("/v1/templates")
def list_templates() -> dict:
    require(router.current_event, "marketer")
    return {"templates": [t.model_dump(mode="json") for t in wiring.campaigns.templates().all()]}


@router.post("/v1/templates")
def save_template(body: TemplateIn) -> Response[dict]:
    require(router.current_event, "marketer")
    store = wiring.campaigns.templates()
    old = store.get(body.name, body.language)
    now = iso(utcnow())
    warnings = lint_template(body, wiring.delivery.config().sending())
    template = Template(
        **body.model_dump(), created_at=old.created_at if old else now, updated_at=now, warnings=warnings
    )
    store.put(template)
    status = 200 if old else 201
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=template.model_dump(mode="json")
    )


def find(name: str) -> Template:
    language = router.current_event.get_query_string_value("language", "") or ""
    matches = [
        t for t in wiring.campaigns.templates().all() if t.name == name and (not language or t.language == language)
    ]
    if not matches:
        raise NotFound(f"no template {name!r}", code="template_not_found")
    return matches[0]


@router.get("/v1/templates/<name>")
def get_template(name: str) -> dict:
    require(router.current_event, "marketer")
    return find(name).model_dump(mode="json")


@router.delete("/v1/templates/<name>")
def delete_template(name: str) -> dict:
    require(router.current_event, "marketer")
    template = find(name)
    wiring.campaigns.templates().delete(template.name, template.language)
    return {"deleted": template.name, "language": template.language}

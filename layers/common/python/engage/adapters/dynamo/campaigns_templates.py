"""Templates: TEMPLATE#<name> / LANG#<language>, listed through gsi2 = TEMPLATES / <name>#<language>."""

from __future__ import annotations

from typing import Any

from engage.adapters.dynamo.keys import TEMPLATES_INDEX_PK, template_pk, template_sk
from engage.adapters.dynamo.table import Table
from engage.campaigns.templates import Template


def template_item(template: Template) -> dict[str, Any]:
    body = template.model_dump(mode="json", exclude_none=True)
    body.update(pk=template_pk(template.name), sk=template_sk(template.language), type="template")
    body["gsi2pk"], body["gsi2sk"] = TEMPLATES_INDEX_PK, f"{template.name}#{template.language}"
    return body


def to_template(item: dict[str, Any] | None) -> Template | None:
    if not item:
        return None
    return Template.model_validate(
        {k: v for k, v in item.items() if k not in ("pk", "sk", "type") and not k.startswith("gsi")}
    )


class TemplateRepository:
    def __init__(self, table: Table):
        self.table = table

    def get(self, name: str, language: str) -> Template | None:
        return to_template(self.table.get(template_pk(name), template_sk(language)))

    def put(self, template: Template) -> None:
        self.table.put(template_item(template))

    def all(self) -> list[Template]:
        return [t for t in (to_template(i) for i in self.table.query(TEMPLATES_INDEX_PK, index="gsi2")) if t]

    def delete(self, name: str, language: str) -> None:
        self.table.delete(template_pk(name), template_sk(language))

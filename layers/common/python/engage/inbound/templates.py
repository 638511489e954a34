"""Template notifications (`template_category_update`, `message_template_status_update`): parsed
here and handed to the campaigns capability (engage.campaigns.template_updates), which re-routes or
pauses the campaigns that use the template. The notification is kept for inspection either way."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from engage.core.observability import logger
from engage.inbound.payloads import Change
from engage.inbound.run import Run

if TYPE_CHECKING:
    from engage.campaigns.template_updates import TemplateCategoryChange, TemplateStatusChange

CATEGORY_FIELD = "template_category_update"
STATUS_FIELD = "message_template_status_update"
TEMPLATE_FIELDS = (CATEGORY_FIELD, STATUS_FIELD)


class TemplateUpdates(Protocol):
    def category_changed(self, change: TemplateCategoryChange, now: datetime) -> Any: ...

    def status_changed(self, change: TemplateStatusChange, now: datetime) -> Any: ...


def process_template_update(run: Run, change: Change) -> None:
    run.keep(f"field#{change.field}", change.raw)
    handler = run.ports.template_updates
    value = change.raw.get("value")
    if handler is None or not isinstance(value, dict):
        return
    # Imported for a template notification only: the campaigns' models are no part of a status POST.
    from engage.campaigns.template_updates import TemplateCategoryChange, TemplateStatusChange

    try:
        if change.field == CATEGORY_FIELD:
            handler.category_changed(TemplateCategoryChange.model_validate(value), run.now)
        else:
            handler.status_changed(TemplateStatusChange.model_validate(value), run.now)
    except ValidationError as error:
        logger.info("template notification not usable", extra={"field": change.field, "errors": error.error_count()})

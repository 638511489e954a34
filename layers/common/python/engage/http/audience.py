"""/v1/imports (CSV imports and their reports) and /v1/segments/{id}/export, /v1/exports/{id}."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ValidationError

from engage import wiring
from engage.audience import exports, imports
from engage.core.errors import Invalid, NotFound
from engage.core.time import utcnow
from engage.http.auth import Marketer
from engage.http.resolver import describe_validation, raw_body, takes_raw
from engage.tagging.service import ready

router = APIGatewayHttpRouter()


class ImportStarted(BaseModel):
    id: str
    state: str
    upload_url: str | None = None


@router.post("/v1/imports", responses={202: {"description": "The import is queued"}})
@takes_raw("text/csv", also_json=True, utf8=False)  # Excel writes Windows-1252; the import sniffs
def create_import(caller: Marketer) -> Response[dict]:
    """Starts a CSV import. Either send the file itself as a `text/csv` body (up to 5 MB), or send JSON
    `{"filename", "default_country"?, "tags"?}` and PUT the file (up to 100 MB) to the `upload_url`
    answered. The import starts as soon as the file is stored; follow it with `GET /v1/imports/{id}`."""
    event = router.current_event
    raw = raw_body(event)
    body = None
    if raw is None:
        if not event.body:
            raise Invalid(
                'send the CSV as a text/csv body, or JSON {"filename": "customers.csv"} for an upload link',
                code="missing_body",
            )
        try:
            body = imports.ImportIn.model_validate_json(event.decoded_body or "")
        except ValidationError as error:
            raise Invalid(describe_validation([dict(e) for e in error.errors()]), code="validation_error") from error
    now = utcnow()
    ready(wiring.tagging.ports(), now)  # the starter tags exist before the first file names them
    job, upload_url = imports.start_import(wiring.audience.import_ports(), body, raw, by=caller, now=now)
    started = ImportStarted(id=job.id, state=job.state, upload_url=upload_url)
    return Response(202, content_types.APPLICATION_JSON, body=started.model_dump(exclude_none=True))


@router.get("/v1/imports/<import_id>")
def get_import(import_id: str, caller: Marketer) -> dict[str, Any]:
    """The import's state and report: rows, processed, imported, updated, failed by reason, duplicates,
    and `errors_url` (a download link of the failed rows with their reasons) once done."""
    ports = wiring.audience.import_ports()
    job = ports.imports.get(import_id) if import_id.startswith("imp_") and len(import_id) <= 64 else None
    if job is None:
        raise NotFound(f"no import {import_id!r}", code="import_not_found")
    return imports.report(ports, job)


class ExportStarted(BaseModel):
    id: str
    state: str
    segment_id: str


@router.post("/v1/segments/<segment_id>/export", responses={202: {"description": "The export is queued"}})
def export_segment(segment_id: str, caller: Marketer) -> Response[dict]:
    """Writes the segment's members as CSV in the background; follow it with `GET /v1/exports/{id}`."""
    export = exports.start_export(wiring.audience.export_ports(), segment_id, by=caller, now=utcnow())
    started = ExportStarted(id=export["id"], state=export["state"], segment_id=segment_id)
    return Response(202, content_types.APPLICATION_JSON, body=started.model_dump())


@router.get("/v1/exports/<export_id>")
def get_export(export_id: str, caller: Marketer) -> dict[str, Any]:
    """The export's state and, once done, `download_url` (a presigned link to the CSV, valid an hour)."""
    ports = wiring.audience.export_ports()
    export = ports.exports.get(export_id) if export_id.startswith("exp_") and len(export_id) <= 64 else None
    if export is None:
        raise NotFound(f"no export {export_id!r}", code="export_not_found")
    return exports.export_view(ports, export)

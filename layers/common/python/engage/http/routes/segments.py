"""/v1/segments: preview a rule, and save, list, read, change and delete segments (marketers)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core.time import utcnow
from engage.http.auth import require
from engage.segments import service
from engage.segments.service import PreviewIn, SegmentChange, SegmentIn

router = APIGatewayHttpRouter()


@router.post("/v1/segments/preview")
def preview_segment(body: PreviewIn) -> dict:
    require(router.current_event, "marketer")
    return service.preview(
        body.rule, reader=wiring.segments.audience(), catalog=wiring.segments.tag_catalog(), now=utcnow()
    )


@router.get("/v1/segments")
def list_segments() -> dict:
    require(router.current_event, "marketer")
    return {"segments": service.list_segments(store=wiring.segments.repository())}


@router.post("/v1/segments")
def create_segment(body: SegmentIn) -> Response[dict]:
    caller = require(router.current_event, "marketer")
    segment = service.create_segment(
        body,
        store=wiring.segments.repository(),
        reader=wiring.segments.audience(),
        catalog=wiring.segments.tag_catalog(),
        caller=caller,
        now=utcnow(),
    )
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=segment)


@router.get("/v1/segments/<segment_id>")
def get_segment(segment_id: str) -> dict:
    require(router.current_event, "marketer")
    return service.get_segment(segment_id, store=wiring.segments.repository())


@router.put("/v1/segments/<segment_id>")
def update_segment(segment_id: str, body: SegmentChange) -> dict:
    caller = require(router.current_event, "marketer")
    return service.update_segment(
        segment_id,
        body,
        store=wiring.segments.repository(),
        reader=wiring.segments.audience(),
        catalog=wiring.segments.tag_catalog(),
        caller=caller,
        now=utcnow(),
    )


@router.delete("/v1/segments/<segment_id>")
def delete_segment(segment_id: str) -> Response[None]:
    require(router.current_event, "marketer")
    service.delete_segment(segment_id, store=wiring.segments.repository())
    return Response(status_code=204)

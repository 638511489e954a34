"""/v1/segments: preview a rule, and save, list, read, change and delete segments (marketers)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from engage import wiring
from engage.core.time import utcnow
from engage.http.auth import Marketer
from engage.segments import service
from engage.segments.service import PreviewIn, SegmentChange, SegmentIn

router = APIGatewayHttpRouter()


class SegmentsOut(BaseModel):
    segments: list[dict[str, Any]]


@router.post("/v1/segments/preview")
def preview_segment(body: PreviewIn, caller: Marketer) -> dict[str, Any]:
    return service.preview(
        body.rule, reader=wiring.segments.audience(), catalog=wiring.segments.tag_catalog(), now=utcnow()
    )


@router.get("/v1/segments")
def list_segments(caller: Marketer) -> SegmentsOut:
    return SegmentsOut(segments=service.list_segments(store=wiring.segments.repository()))


@router.post("/v1/segments")
def create_segment(body: SegmentIn, caller: Marketer) -> Response[dict]:
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
def get_segment(segment_id: str, caller: Marketer) -> dict[str, Any]:
    return service.get_segment(segment_id, store=wiring.segments.repository())


@router.put("/v1/segments/<segment_id>")
def update_segment(segment_id: str, body: SegmentChange, caller: Marketer) -> dict[str, Any]:
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
def delete_segment(segment_id: str, caller: Marketer) -> Response[None]:
    service.delete_segment(segment_id, store=wiring.segments.repository())
    return Response(status_code=204)

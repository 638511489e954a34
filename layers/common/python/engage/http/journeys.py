"""/v1/journeys: list, create, read, change (a new version), delete, enable, disable, stats (marketers)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from engage import wiring
from engage.core.time import utcnow
from engage.http.auth import Marketer
from engage.journeys import service
from engage.journeys.model import JourneyId, JourneyIn

router = APIGatewayHttpRouter()


class JourneyCreate(JourneyIn):
    id: JourneyId


class JourneysOut(BaseModel):
    journeys: list[dict[str, Any]]


@router.get("/v1/journeys")
def list_journeys(caller: Marketer) -> JourneysOut:
    journeys = sorted(wiring.journeys.ports().journeys.all(), key=lambda j: j.id)
    return JourneysOut(journeys=[service.view(j) for j in journeys])


@router.post("/v1/journeys")
def create_journey(body: JourneyCreate, caller: Marketer) -> Response[dict]:
    definition = JourneyIn.model_validate(body.model_dump(exclude={"id"}))
    journey = service.create(wiring.journeys.ports(), body.id, definition, utcnow())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=service.view(journey))


@router.get("/v1/journeys/<journey_id>")
def get_journey(journey_id: str, caller: Marketer) -> dict[str, Any]:
    return service.view(service.get(wiring.journeys.ports(), journey_id))


@router.put("/v1/journeys/<journey_id>")
def update_journey(journey_id: str, body: JourneyIn, caller: Marketer) -> dict[str, Any]:
    return service.view(service.update(wiring.journeys.ports(), journey_id, body, utcnow()))


@router.delete("/v1/journeys/<journey_id>")
def delete_journey(journey_id: str, caller: Marketer) -> Response[None]:
    service.delete(wiring.journeys.ports(), journey_id)
    return Response(status_code=204)


@router.post("/v1/journeys/<journey_id>/enable")
def enable_journey(journey_id: str, caller: Marketer) -> dict[str, Any]:
    return service.view(service.set_enabled(wiring.journeys.ports(), journey_id, True, utcnow()))


@router.post("/v1/journeys/<journey_id>/disable")
def disable_journey(journey_id: str, caller: Marketer) -> dict[str, Any]:
    """Pauses it: nobody enters, runs keep their place until it is enabled again."""
    return service.view(service.set_enabled(wiring.journeys.ports(), journey_id, False, utcnow()))


@router.get("/v1/journeys/<journey_id>/stats")
def journey_stats(journey_id: str, caller: Marketer) -> dict[str, Any]:
    return service.stats(wiring.journeys.ports(), journey_id)

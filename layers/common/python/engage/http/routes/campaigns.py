"""/v1/campaigns: create, read, launch, pause, resume, cancel, follow-up."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.campaigns import campaign as campaigns
from engage.campaigns import service as campaign_flow
from engage.campaigns.campaign import Campaign, CampaignIn
from engage.core.time import utcnow
from engage.http.auth import require

router = APIGatewayHttpRouter()


def shaped(campaign: Campaign, **extra: Any) -> dict[str, Any]:
    return {**campaign.model_dump(mode="json"), **extra}


def progress(campaign_id: str) -> dict[str, int]:
    """Send items by state (and reason for refusals and deferrals)."""
    counts: Counter[str] = Counter()
    for item in wiring.delivery.sends().of_campaign(campaign_id):
        counts[item.state] += 1
        if item.state in ("refused", "deferred", "failed") and item.reason:
            counts[f"{item.state}:{item.reason}"] += 1
    return dict(counts)


@router.get("/v1/campaigns")
def list_campaigns() -> dict:
    require(router.current_event, "marketer")
    found = sorted(wiring.campaigns.repository().all(), key=lambda c: c.created_at, reverse=True)
    return {"campaigns": [shaped(c) for c in found]}


@router.post("/v1/campaigns")
def create_campaign(body: CampaignIn) -> Response[dict]:
    caller = require(router.current_event, "marketer")
    campaign = campaign_flow.create(wiring.campaigns.flow_ports(), body, caller, utcnow())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=shaped(campaign))


@router.get("/v1/campaigns/<campaign_id>")
def get_campaign(campaign_id: str) -> dict:
    require(router.current_event, "marketer")
    campaign = campaigns.get(wiring.campaigns.repository(), campaign_id)
    return shaped(campaign, progress=progress(campaign_id))


@router.post("/v1/campaigns/<campaign_id>/launch")
def launch_campaign(campaign_id: str) -> dict:
    require(router.current_event, "marketer")
    config = wiring.delivery.config().sending()
    return shaped(
        campaigns.launch(
            wiring.campaigns.repository(), wiring.campaigns.dispatch_queue(), campaign_id, utcnow(), config
        )
    )


@router.post("/v1/campaigns/<campaign_id>/pause")
def pause_campaign(campaign_id: str) -> dict:
    caller = require(router.current_event, "marketer")
    return shaped(campaigns.pause(wiring.campaigns.repository(), campaign_id, utcnow(), reason=f"paused by {caller}"))


@router.post("/v1/campaigns/<campaign_id>/resume")
def resume_campaign(campaign_id: str) -> dict:
    require(router.current_event, "marketer")
    campaign, requeued = campaign_flow.resume(wiring.campaigns.flow_ports(), campaign_id, utcnow())
    return shaped(campaign, requeued=requeued)


@router.post("/v1/campaigns/<campaign_id>/cancel")
def cancel_campaign(campaign_id: str) -> dict:
    require(router.current_event, "marketer")
    return shaped(campaigns.cancel(wiring.campaigns.repository(), campaign_id, utcnow()))


@router.post("/v1/campaigns/<campaign_id>/follow-up")
def follow_up_campaign(campaign_id: str) -> Response[dict]:
    caller = require(router.current_event, "marketer")
    result = campaign_flow.follow_up(wiring.campaigns.flow_ports(), campaign_id, caller, utcnow())
    body = shaped(result["campaign"], recipients=result["recipients"], reasons=result["reasons"])
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)

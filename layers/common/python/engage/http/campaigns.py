"""/v1/campaigns (create, read, edit and delete drafts, launch, pause, resume, cancel, follow-up, retarget)
and /v1/templates (the approved WhatsApp templates, linted when saved)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from engage import wiring
from engage.campaigns import campaign as campaigns
from engage.campaigns import retarget
from engage.campaigns import service as campaign_flow
from engage.campaigns.campaign import Campaign, CampaignChange, CampaignIn
from engage.campaigns.templates import Template, TemplateIn, lint_template
from engage.core.errors import NotFound
from engage.core.time import iso, utcnow
from engage.http.auth import Marketer

router = APIGatewayHttpRouter()


class CampaignsOut(BaseModel):
    campaigns: list[dict[str, Any]]


class TemplatesOut(BaseModel):
    templates: list[dict[str, Any]]


class TemplateDeletedOut(BaseModel):
    deleted: str
    language: str


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
def list_campaigns(caller: Marketer) -> CampaignsOut:
    found = sorted(wiring.campaigns.repository().all(), key=lambda c: c.created_at, reverse=True)
    return CampaignsOut(campaigns=[shaped(c) for c in found])


@router.post("/v1/campaigns")
def create_campaign(body: CampaignIn, caller: Marketer) -> Response[dict]:
    campaign = campaign_flow.create(wiring.campaigns.flow_ports(), body, caller, utcnow())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=shaped(campaign))


@router.get("/v1/campaigns/<campaign_id>")
def get_campaign(campaign_id: str, caller: Marketer) -> dict[str, Any]:
    campaign = campaigns.get(wiring.campaigns.repository(), campaign_id)
    return shaped(campaign, progress=progress(campaign_id))


@router.put("/v1/campaigns/<campaign_id>")
def replace_campaign(campaign_id: str, body: CampaignIn, caller: Marketer) -> dict[str, Any]:
    return shaped(campaign_flow.edit(wiring.campaigns.flow_ports(), campaign_id, body, utcnow()))


@router.patch("/v1/campaigns/<campaign_id>")
def change_campaign(campaign_id: str, body: CampaignChange, caller: Marketer) -> dict[str, Any]:
    return shaped(campaign_flow.change(wiring.campaigns.flow_ports(), campaign_id, body, utcnow()))


@router.delete("/v1/campaigns/<campaign_id>")
def delete_campaign(campaign_id: str, caller: Marketer) -> Response[None]:
    campaigns.delete(wiring.campaigns.repository(), campaign_id)
    return Response(status_code=204)


@router.post("/v1/campaigns/<campaign_id>/launch")
def launch_campaign(campaign_id: str, caller: Marketer) -> dict[str, Any]:
    config = wiring.delivery.config().sending()
    return shaped(
        campaigns.launch(
            wiring.campaigns.repository(), wiring.campaigns.dispatch_queue(), campaign_id, utcnow(), config
        )
    )


@router.post("/v1/campaigns/<campaign_id>/pause")
def pause_campaign(campaign_id: str, caller: Marketer) -> dict[str, Any]:
    return shaped(campaigns.pause(wiring.campaigns.repository(), campaign_id, utcnow(), reason=f"paused by {caller}"))


@router.post("/v1/campaigns/<campaign_id>/resume")
def resume_campaign(campaign_id: str, caller: Marketer) -> dict[str, Any]:
    campaign, requeued = campaign_flow.resume(wiring.campaigns.flow_ports(), campaign_id, utcnow())
    return shaped(campaign, requeued=requeued)


@router.post("/v1/campaigns/<campaign_id>/cancel")
def cancel_campaign(campaign_id: str, caller: Marketer) -> dict[str, Any]:
    return shaped(campaigns.cancel(wiring.campaigns.repository(), campaign_id, utcnow()))


@router.post("/v1/campaigns/<campaign_id>/follow-up")
def follow_up_campaign(campaign_id: str, caller: Marketer) -> Response[dict]:
    result = campaign_flow.follow_up(wiring.campaigns.flow_ports(), campaign_id, caller, utcnow())
    body = shaped(result["campaign"], recipients=result["recipients"], reasons=result["reasons"])
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


@router.post("/v1/campaigns/<campaign_id>/retarget")
def retarget_campaign(campaign_id: str, body: retarget.RetargetIn, caller: Marketer) -> Response[dict]:
    campaign = retarget.plan(wiring.campaigns.flow_ports(), campaign_id, body, caller, utcnow())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=shaped(campaign))


# ---------------------------------------------------------------------------- templates
@router.get("/v1/templates")
def list_templates(caller: Marketer) -> TemplatesOut:
    return TemplatesOut(templates=[t.model_dump(mode="json") for t in wiring.campaigns.templates().all()])


@router.post("/v1/templates")
def save_template(body: TemplateIn, caller: Marketer) -> Response[dict]:
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


def find_template(name: str) -> Template:
    language = router.current_event.get_query_string_value("language", "") or ""
    matches = [
        t for t in wiring.campaigns.templates().all() if t.name == name and (not language or t.language == language)
    ]
    if not matches:
        raise NotFound(f"no template {name!r}", code="template_not_found")
    return matches[0]


@router.get("/v1/templates/<name>")
def get_template(name: str, caller: Marketer) -> dict[str, Any]:
    return find_template(name).model_dump(mode="json")


@router.delete("/v1/templates/<name>")
def delete_template(name: str, caller: Marketer) -> TemplateDeletedOut:
    template = find_template(name)
    wiring.campaigns.templates().delete(template.name, template.language)
    return TemplateDeletedOut(deleted=template.name, language=template.language)

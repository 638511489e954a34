"""Retargeting: a follow-up round to those who did not read, or did not click, a campaign.

`plan` makes the round a draft campaign (`follow_up_of` the source, `round` one more than the
source's) with no audience yet; launching it schedules it. `start` (from `campaign-tick`) chooses
its audience once the source is finished: every recipient the source's send reached (state
`sent`, not failed) who has not read it (`not_read`) or clicked its link (`not_clicked`). It waits
until each of them is at least `after_hours` past their send of the source, then snapshots the
audience and dispatches like any campaign, so the sender applies every rule (consent, opt-out,
caps, windows, quiet hours, pair limit, service window) and defers rather than drops.

At most once per recipient and round: a round is a campaign, whose send key per customer is its
id; a source has at most one retarget round (its id derives from the source's), and a chain has
at most `retarget.max_followups` rounds.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engage.campaigns.campaign import Campaign, CampaignIn, Dispatch, Retarget, Schedule, Variant, dispatch_message, get
from engage.core.errors import Conflict, Invalid
from engage.core.time import iso, parse_iso
from engage.delivery.sends import SendItem

if TYPE_CHECKING:
    from engage.campaigns.service import FlowPorts

FINISHED = ("completed", "cancelled")


class RetargetIn(BaseModel):
    """POST /v1/campaigns/{id}/retarget."""

    model_config = ConfigDict(extra="forbid")

    audience: Literal["not_read", "not_clicked"] = Field(
        description="Who gets the round: recipients of the campaign who did not read it, or did not click its link."
    )
    after_hours: float = Field(
        default=24,
        ge=24,
        le=24 * 30,
        description="At least this long after each recipient's send of the campaign (at least 24 hours).",
    )
    variant: Variant | None = Field(
        default=None, description="The message of the round; by default the campaign's winning or default variant."
    )
    name: str | None = Field(default=None, min_length=1, max_length=120)


def round_id(source_id: str) -> str:
    """The one retarget round a campaign can have: a second request finds it instead of making another."""
    return "cmp_" + hashlib.sha256(f"{source_id}:retarget".encode()).hexdigest()[:16]


def plan(ports: FlowPorts, campaign_id: str, body: RetargetIn, caller: str, now: datetime) -> Campaign:
    # The same checks as a new campaign's (service imports this module, so import it here).
    from engage.campaigns.service import InvalidChange, checked, described

    source = get(ports.campaigns, campaign_id)
    config = ports.config.sending().retarget
    if source.status == "draft":
        raise Conflict("retargeting needs a launched campaign", code="campaign_state")
    if source.round + 1 > config.max_followups:
        raise Conflict(
            f"a campaign gets at most {config.max_followups} follow-up rounds (settings: retarget.max_followups)",
            code="follow_up_limit",
        )
    if body.audience == "not_clicked" and not source.link:
        raise Invalid("the campaign has no tracked link to click", code="no_link")
    existing = ports.campaigns.get(round_id(source.id))
    if existing is not None:
        raise Conflict(
            f"this campaign already has its follow-up round {existing.id}",
            code="follow_up_exists",
            details={"campaign_id": existing.id},
        )
    variant = body.variant or source.variant(source.winner or source.default_variant)
    after = max(body.after_hours, config.min_gap_hours)
    earliest = parse_iso(source.started_at or source.launched_at or iso(now)) + timedelta(hours=after)
    fields = {
        **source.model_dump(include=set(CampaignIn.model_fields)),
        "name": body.name or f"{source.name} (round {source.round + 1}: {body.audience.replace('_', ' ')})"[:120],
        "variants": [variant.model_dump()],
        "default_variant": variant.name,
        "schedule": Schedule(mode="at", at=iso(max(earliest, now))).model_dump(),
    }
    try:
        draft_in = CampaignIn.model_validate(fields)
    except ValidationError as error:  # the source's fields with this variant: say why, never a 500
        raise InvalidChange(described(error), code="validation_error") from None
    derived = checked(ports, draft_in, now)
    campaign = Campaign(
        **{**draft_in.model_dump(), **derived},
        id=round_id(source.id),
        created_at=iso(now),
        created_by=caller,
        follow_up_of=source.id,
        round=source.round + 1,
        retarget=Retarget(audience=body.audience, after_hours=after),
        dispatch=Dispatch(),
    )
    ports.campaigns.save(campaign)
    return campaign


def unanswered(item: SendItem, audience: str) -> bool:
    """A send that reached the customer (accepted, not failed) and was not read / not clicked."""
    if item.state != "sent" or item.status == "failed" or not item.sent_at:
        return False
    return not (item.was_read if audience == "not_read" else item.seen("clicked_at"))


def start(ports: FlowPorts, campaign: Campaign, now: datetime) -> str | None:
    """campaign-tick on a scheduled retarget round: starts it when its source is finished and every
    chosen recipient is `after_hours` past their send; None while it waits."""
    plan_ = campaign.retarget
    assert plan_ is not None and ports.audience_writer is not None
    if campaign.schedule.at and parse_iso(campaign.schedule.at) > now:
        return None
    source = ports.campaigns.get(campaign.follow_up_of or "")
    if source is not None and source.status not in FINISHED:
        return None  # its statuses and deferred sends are still moving
    chosen = [] if source is None else [i for i in ports.sends.of_campaign(source.id) if unanswered(i, plan_.audience)]
    if chosen:
        ready = max(parse_iso(i.sent_at or "") for i in chosen) + timedelta(hours=plan_.after_hours)
        if ready > now:  # a late send holds the round back: ticks before then need not read the sends
            later = campaign.model_copy(update={"schedule": Schedule(mode="at", at=iso(ready)), "updated_at": iso(now)})
            ports.campaigns.save(later, expect_status="scheduled")
            return None
    started: dict[str, Any] = {"started_at": iso(now), "updated_at": iso(now), "audience_ready": True}
    if not chosen:
        done = campaign.model_copy(
            update={**started, "status": "completed", "completed_at": iso(now), "audience_count": 0}
        )
        return "nobody to retarget" if ports.campaigns.save(done, expect_status="scheduled") else None
    ids = sorted({i.customer_id for i in chosen})
    # Written before the state change: a crash in between writes the same audience again next tick.
    ports.audience_writer.write(campaign.id, ids, now, dict.fromkeys(ids, plan_.audience))
    horizon = timedelta(hours=ports.config.sending().campaign_horizon_hours)
    running = campaign.model_copy(
        update={**started, "status": "running", "audience_count": len(ids), "ends_at": iso(now + horizon)}
    )
    if not ports.campaigns.save(running, expect_status="scheduled"):
        return None
    ports.dispatch_queue.send([dispatch_message(campaign.id)])
    return "retarget started"

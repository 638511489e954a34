"""Dispatch: a launched campaign's audience, page by page, into send jobs.

Each DispatchQueue message `{"type": "dispatch", "campaign_id", "cursor"}` handles one page:
snapshot the audience (first page), read `dispatch_page` customers after the cursor, choose
each one's variant (A/B: a deterministic hash of campaign and customer), queue their jobs in
batches of 10, store the new cursor, queue the next page. A crash re-runs a page (the sender's
send item makes the repeats no-ops); a stale message (its cursor is not the stored one) is
dropped. The messaging-limit tier caps how many recipients are planned per moving 24 hours;
at the cap the campaign waits and `campaign-tick` resumes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engage.campaigns.campaign import Campaign, dispatch_message, halt
from engage.campaigns.ports import AudienceSource, CampaignStore, TierLedger
from engage.core.errors import EngageError
from engage.core.observability import logger
from engage.core.ports import Queue
from engage.core.time import iso, parse_iso
from engage.delivery.config import SendingConfig
from engage.delivery.jobs import SendJob
from engage.delivery.ports import ConfigSource


@dataclass
class DispatchPorts:
    campaigns: CampaignStore
    audience: AudienceSource
    send_queue: Queue
    dispatch_queue: Queue
    tier: TierLedger
    config: ConfigSource


def unit_hash(*parts: str) -> float:
    """A stable number in [0, 1) per (campaign, customer): the same split on every run."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sample_fraction(campaign: Campaign, config: SendingConfig) -> float:
    """Share of the audience in the A/B test: 10% by default, 2 x 1,000 above 2,000 recipients."""
    if campaign.ab.sample_fraction:
        return campaign.ab.sample_fraction
    total = campaign.audience_count or 0
    if total > config.ab.large_list:
        return min(1.0, config.ab.large_sample_per_variant * len(campaign.variants) / total)
    return config.ab.sample_fraction


def in_sample(campaign: Campaign, customer_id: str, config: SendingConfig) -> bool:
    return unit_hash("sample", campaign.id, customer_id) < sample_fraction(campaign, config)


def test_variant(campaign: Campaign, customer_id: str) -> str:
    index = int(unit_hash("variant", campaign.id, customer_id) * len(campaign.variants))
    return campaign.variants[index].name


def variant_for(campaign: Campaign, customer_id: str, config: SendingConfig) -> str | None:
    """The variant this customer gets in the current phase, or None (not in this phase)."""
    phase = campaign.dispatch.phase
    if phase == "all":
        return campaign.default_variant if campaign.is_ab else campaign.variants[0].name
    sampled = in_sample(campaign, customer_id, config)
    if phase == "test":
        return test_variant(campaign, customer_id) if sampled else None
    return None if sampled else (campaign.winner or campaign.default_variant)


def job_for(campaign: Campaign, customer_id: str, variant: str) -> dict[str, Any]:
    job = SendJob(
        customer_id=customer_id,
        send_key=campaign.id,
        campaign_id=campaign.id,
        variant=variant,
        category=campaign.category,
        message=campaign.variant(variant).message(),
        reason=f"campaign:{campaign.id}",
    )
    return job.model_dump(mode="json")


def snapshot(ports: DispatchPorts, campaign: Campaign, now: datetime) -> Campaign:
    d = campaign.dispatch
    if not campaign.audience_ready:
        count = ports.audience.snapshot_audience(campaign.id, campaign.segment_id or campaign.rule, now)
        campaign = campaign.model_copy(update={"audience_count": count})
    phase = "test" if campaign.is_ab and not campaign.winner else "all"
    return campaign.model_copy(update={"dispatch": d.model_copy(update={"snapshotted": True, "phase": phase})})


def tier_room(ports: DispatchPorts, config: SendingConfig, now: datetime) -> tuple[int, str | None]:
    """How many more recipients may be planned now, and when room frees up if none."""
    used, oldest = ports.tier.used(now)
    room = config.messaging_tier - used
    if room > 0:
        return room, None
    frees = (parse_iso(oldest + ":00:00Z") if oldest else now) + timedelta(hours=24)
    return 0, iso(frees)


def dispatch_page(message: dict[str, Any], now: datetime, ports: DispatchPorts) -> dict[str, Any]:
    campaign = ports.campaigns.get(str(message.get("campaign_id")))
    if campaign is None:
        return {"skipped": "campaign_not_found"}
    d = campaign.dispatch
    if campaign.status != "running" or d.done or d.waiting_until:
        return {"skipped": f"campaign {campaign.status}"}
    if message.get("cursor") != d.cursor:
        return {"skipped": "stale page"}
    config = ports.config.sending()
    if not d.snapshotted:
        try:
            campaign = snapshot(ports, campaign, now)
        except EngageError as error:  # an audience that cannot be evaluated: stop and say why
            halt(ports.campaigns, campaign.id, now, f"audience: {error.message}")
            return {"paused": error.message}
    room, frees = tier_room(ports, config, now)
    if room <= 0:
        waiting = campaign.dispatch.model_copy(update={"waiting_until": frees})
        ports.campaigns.save(campaign.model_copy(update={"dispatch": waiting}), expect_status="running")
        logger.info("messaging tier reached: dispatch waits", extra={"campaign_id": campaign.id, "until": frees})
        return {"waiting_until": frees}
    return queue_page(ports, campaign, config, now, min(config.dispatch_page, room))


def queue_page(ports: DispatchPorts, campaign: Campaign, config: SendingConfig, now: datetime, limit: int) -> dict:
    d = campaign.dispatch
    ids, cursor = ports.audience.audience_page(campaign.id, d.cursor, limit)
    jobs, held = [], 0
    for customer_id in ids:
        variant = variant_for(campaign, customer_id, config)
        if variant is None:
            held += 1
            continue
        jobs.append(job_for(campaign, customer_id, variant))
    ports.send_queue.send(jobs)
    ports.tier.add(now, len(jobs))
    update: dict[str, Any] = {"cursor": cursor, "pages": d.pages + 1, "queued": d.queued + len(jobs)}
    update["held"] = d.held + held
    if cursor is None:
        update.update({"done": d.phase != "test", "test_done_at": iso(now) if d.phase == "test" else d.test_done_at})
    campaign = campaign.model_copy(update={"dispatch": d.model_copy(update=update), "updated_at": iso(now)})
    if not ports.campaigns.save(campaign, expect_status="running"):
        return {"queued": len(jobs), "stopped": "campaign changed"}  # paused meanwhile: resume re-runs from here
    if cursor is not None:
        ports.dispatch_queue.send([dispatch_message(campaign.id, cursor)])
    return {"queued": len(jobs), "held": held, "next": cursor, "phase": d.phase}

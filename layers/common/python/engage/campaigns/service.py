"""Campaign use cases that span stores: create (with lint), resume, follow-up, and the two
scheduled jobs (`release-deferred` every minute, `campaign-tick` every 5 minutes, which also
starts retargeting rounds: campaigns.retarget)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from pydantic import ValidationError

from engage.campaigns import ab, retarget
from engage.campaigns.campaign import (
    Campaign,
    CampaignChange,
    CampaignIn,
    check_links,
    dispatch_message,
    draft,
    get,
    new_campaign_id,
    start_scheduled,
    transition,
)
from engage.campaigns.ports import AudienceCheck, AudienceSource, AudienceWriter, CampaignStore, TemplateStore
from engage.campaigns.templates import (
    Template,
    check_parameters,
    is_urgent,
    lint_text,
    lint_variables,
    urgency_warning,
)
from engage.core.errors import Conflict, Invalid
from engage.core.ports import Queue
from engage.core.time import iso, parse_iso
from engage.delivery.config import SendingConfig
from engage.delivery.ports import ConfigSource, SendLedger
from engage.delivery.sends import SendItem

FOLLOW_UP_REFUSALS = ("deferred_past_end", "campaign_cancelled", "campaign_not_found")


@dataclass
class FlowPorts:
    campaigns: CampaignStore
    sends: SendLedger
    send_queue: Queue
    dispatch_queue: Queue
    config: ConfigSource
    templates: TemplateStore | None = None
    audience: AudienceSource | None = None
    audience_writer: AudienceWriter | None = None
    audience_check: AudienceCheck | None = None


# ---------------------------------------------------------------- create
def preview(body: list[str] | dict[str, str], template: Template) -> str:
    """The template body with the campaign's parameters in place of {{1}}, {{2}} ... (or {{name}})."""
    text = template.body
    pairs = body.items() if isinstance(body, dict) else enumerate(body, start=1)
    for key, value in pairs:
        text = text.replace(f"{{{{{key}}}}}", value)
    return text


def variant_text(body: CampaignIn, ports: FlowPorts, config: SendingConfig) -> tuple[list[str], list[str]]:
    """(texts to lint, warnings) per variant; unknown or unapproved templates are refused."""
    texts: list[str] = []
    warnings: list[str] = []
    for variant in body.variants:
        if variant.text:
            texts.append(variant.text)
            continue
        template = ports.templates.get(variant.template or "", variant.language) if ports.templates else None
        if template is None:
            raise Invalid(f"no template {variant.template!r} in {variant.language!r}", code="template_not_found")
        if template.status != "approved":
            raise Invalid(f"template {template.name!r} is {template.status}", code="template_not_approved")
        mismatch = check_parameters(template, variant.body)
        if mismatch:
            raise Invalid(mismatch[0], code="template_parameters")
        if template.category == "marketing" and body.category != "marketing":
            warnings.append(f"template {template.name!r} is a marketing template: the campaign counts as marketing")
        texts.append(preview(variant.body, template))
    return texts, warnings


def template_categories(body: CampaignIn, ports: FlowPorts) -> dict[str, str]:
    """Each variant template's category as registered (it routes the sends, see delivery.policy)."""
    found: dict[str, str] = {}
    for variant in body.variants:
        template = (
            ports.templates.get(variant.template, variant.language) if ports.templates and variant.template else None
        )
        if template is not None:
            found[template.name] = template.category
    return found


def checked_audience(body: CampaignIn, ports: FlowPorts) -> dict[str, Any] | str | None:
    """The campaign's inline rule in its JSON form (text accepted), validated as a preview would; an
    unknown `segment_id` is refused here, not found missing at launch."""
    if ports.audience_check is None:  # no segments to check against (unit tests on fakes)
        return body.rule
    if body.segment_id is not None:
        if not ports.audience_check.has_segment(body.segment_id):
            raise Invalid(f"no segment {body.segment_id!r}", code="segment_not_found")
        return None
    if body.rule is None:
        return None
    return ports.audience_check.checked_rule(body.rule)


def checked(ports: FlowPorts, body: CampaignIn, now: datetime) -> dict[str, Any]:
    """Every check of a new or edited campaign; returns the fields it derives (rule, category, lint)."""
    config = ports.config.sending()
    if body.schedule.mode == "at" and body.schedule.at and parse_iso(body.schedule.at) < now - timedelta(minutes=5):
        raise Invalid("schedule.at is in the past", code="schedule_in_past")
    check_links(body)
    texts, warnings = variant_text(body, ports, config)
    rule = checked_audience(body, ports)
    for variant, text in zip(body.variants, texts, strict=True):
        warnings += [f"variant {variant.name}: {w}" for w in lint_text(text, config)]
    values = [b.value for v in body.variants for b in v.buttons]
    has_coupon = bool(body.coupon_pool or body.coupon_code)
    warnings += lint_variables([*texts, *values], has_coupon=has_coupon, fallbacks=body.fallbacks)
    urgent = any(is_urgent(t, config) for t in texts)
    if urgent:
        recent = [
            c
            for c in ports.campaigns.all()
            if c.urgent and c.launched_at and parse_iso(c.launched_at) > now - timedelta(days=7)
        ]
        warnings += (
            urgency_warning(len(recent) + 1, config) if len(recent) + 1 > config.caps.urgent_max_per_7_days else []
        )
    category = "marketing" if any("marketing template" in w for w in warnings) else body.category
    return {
        "rule": rule,
        "category": category,
        "urgent": urgent,
        "warnings": warnings,
        "template_categories": template_categories(body, ports),
    }


def create(ports: FlowPorts, body: CampaignIn, caller: str, now: datetime) -> Campaign:
    derived = checked(ports, body, now)
    campaign = Campaign(
        **{**body.model_dump(), **derived},
        id=new_campaign_id(),
        created_at=iso(now),
        created_by=caller,
    )
    ports.campaigns.save(campaign)
    return campaign


# ---------------------------------------------------------------- edit and delete drafts
def edit(ports: FlowPorts, campaign_id: str, body: CampaignIn, now: datetime) -> Campaign:
    """PUT: the draft takes `body` whole, checked as at creation; only while it is a draft (409 otherwise)."""
    current = draft(ports.campaigns, campaign_id)
    if current.follow_up_of and (body.segment_id, body.rule) != (current.segment_id, current.rule):
        raise Invalid("a follow-up's audience is the people its campaign did not reach", code="audience_fixed")
    derived = checked(ports, body, now)
    updated = Campaign.model_validate({**current.model_dump(), **body.model_dump(), **derived, "updated_at": iso(now)})
    if not ports.campaigns.save(updated, expect_status="draft"):
        raise Conflict("the campaign changed meanwhile; read it and try again", code="campaign_changed")
    return updated


class InvalidChange(Invalid):
    """A PATCH whose result is not a valid campaign: 422, as the same fields in a POST body would be."""

    status = 422


def change(ports: FlowPorts, campaign_id: str, patch: CampaignChange, now: datetime) -> Campaign:
    """PATCH: the given fields change, the rest stay; the result is checked as a whole, as PUT does."""
    current = draft(ports.campaigns, campaign_id)
    try:
        body = CampaignIn.model_validate(patch.applied_to(current))
    except ValidationError as error:
        raise InvalidChange(described(error), code="validation_error") from None
    return edit(ports, campaign_id, body, now)


def described(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(p) for p in problem.get("loc", ()))
        parts.append(f"{where or 'body'}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts)


# ---------------------------------------------------------------- resume
def requeue_parked(ports: FlowPorts, campaign_id: str, now: datetime) -> int:
    jobs: list[dict[str, Any]] = []
    for item in ports.sends.parked(campaign_id):
        if item.job and ports.sends.release(item, now):
            jobs.append(item.job)
    ports.send_queue.send(jobs)
    return len(jobs)


def resume(ports: FlowPorts, campaign_id: str, now: datetime) -> tuple[Campaign, int]:
    """paused -> running; parked jobs and the dispatch cursor are queued again (never a re-send)."""
    current = get(ports.campaigns, campaign_id)
    if current.retarget is not None and not current.audience_ready:  # paused before it started: wait again
        return transition(ports.campaigns, current, "resume", now, status="scheduled"), 0
    campaign = transition(ports.campaigns, current, "resume", now, status="running")
    requeued = requeue_parked(ports, campaign.id, now)
    d = campaign.dispatch
    if not d.done and not d.waiting_until and not (d.phase == "test" and d.test_done_at):
        ports.dispatch_queue.send([dispatch_message(campaign.id, d.cursor)])
    return campaign, requeued


# ---------------------------------------------------------------- follow-up
def not_reached_reason(item: SendItem) -> str | None:
    if item.state == "intent":
        return "failed:unknown_outcome"
    if item.state == "deferred":
        return "deferred_past_end" if not item.parked else "campaign_paused"
    if item.state == "retrying":
        return f"failed_retryably:{item.reason or item.error_code}"
    if item.state == "failed" and (item.retryable or item.reason == "unknown_outcome"):
        return f"failed:{item.reason}"
    if item.state == "refused" and item.reason in FOLLOW_UP_REFUSALS:
        return item.reason
    return None


def follow_up(ports: FlowPorts, campaign_id: str, caller: str, now: datetime) -> dict[str, Any]:
    """A draft campaign to those the finished one did not reach, each with the reason why."""
    source = get(ports.campaigns, campaign_id)
    if source.status not in ("completed", "cancelled"):
        raise Conflict("follow-up needs a completed or cancelled campaign", code="campaign_state")
    if ports.audience is None or ports.audience_writer is None:
        raise Invalid("no audience source configured", code="no_audience")
    reasons: dict[str, str] = {}
    seen: set[str] = set()
    for item in ports.sends.of_campaign(campaign_id):
        seen.add(item.customer_id)
        why = not_reached_reason(item)
        if why:
            reasons[item.customer_id] = why
    cursor: str | None = None
    while True:
        ids, cursor = ports.audience.audience_page(campaign_id, cursor, 1000)
        reasons.update({cid: "never_dispatched" for cid in ids if cid not in seen})
        if cursor is None:
            break
    if not reasons:
        raise Conflict("everyone in this campaign was reached or refused for good", code="nothing_to_follow_up")
    best = source.winner or source.default_variant
    campaign = source.model_copy(
        update={
            "id": new_campaign_id(),
            "name": f"{source.name} (follow-up)"[:120],
            "status": "draft",
            "created_at": iso(now),
            "created_by": caller,
            "variants": [source.variant(best)],
            "default_variant": best,
            "follow_up_of": source.id,
            "retarget": None,  # those a round did not reach get the same round again, not a new one
            "audience_ready": True,
            "audience_count": len(reasons),
            "schedule": source.schedule.model_copy(update={"mode": "now", "at": None}),
            **dict.fromkeys(("launched_at", "started_at", "paused_at", "pause_reason", "completed_at")),
            **dict.fromkeys(("cancelled_at", "ends_at", "ab_result", "winner", "updated_at")),
            "dispatch": type(source.dispatch)(),
        }
    )
    ports.audience_writer.write(campaign.id, sorted(reasons), now, reasons)
    ports.campaigns.save(campaign)
    return {"campaign": campaign, "recipients": len(reasons), "reasons": dict(Counter(reasons.values()))}


# ---------------------------------------------------------------- scheduled jobs
RELEASE_PAGE = 500  # items read, queued (50 SQS batches) and released per page
RELEASE_BUDGET_SECONDS = 45.0  # a run stops starting pages after this, before the next minute's run


def release_deferred(
    ports: FlowPorts,
    now: datetime,
    *,
    page_size: int = RELEASE_PAGE,
    budget_seconds: float = RELEASE_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Every minute: deferred sends whose time has come go back to the send queue, a page at a time.

    Each page is queued first and released after, so a crash in between queues that page's jobs
    once more at most (the sender's per-send-key guard makes the second job a no-op). At least one
    page runs; no page starts once `budget_seconds` have passed. Whatever is still due then stays
    on the index and the next minute's run takes it: the index is the cursor, and a continuation
    message would only race that next run over the same items (docs/sending.md).
    The scheduler's timeout (900 s) is far above the budget, so the minute, not the Lambda
    context's remaining time, bounds a run.
    """
    deadline = clock() + budget_seconds
    due = ports.sends.due(now, page_size)
    figures: dict[str, Any] = {"due": 0, "queued": 0, "released": 0, "pages": 0, "more": False}
    while page := list(islice(due, page_size)):
        jobs = [item.job for item in page if item.job]
        ports.send_queue.send(jobs)  # queued first: a crash before the release below only queues them twice
        figures["released"] += sum(1 for item in page if item.job and ports.sends.release(item, now))
        figures["due"] += len(page)
        figures["queued"] += len(jobs)
        figures["pages"] += 1
        if clock() >= deadline:
            figures["more"] = next(due, None) is not None
            break
    return figures


def open_items(items: list[SendItem]) -> int:
    return sum(1 for i in items if i.state in ("intent", "retrying") or (i.state == "deferred" and not i.parked))


def decide_ab(ports: FlowPorts, campaign: Campaign, config: SendingConfig, now: datetime) -> bool:
    d = campaign.dispatch
    window = timedelta(minutes=campaign.ab.window_minutes or config.ab.window_minutes)
    if d.phase != "test" or not d.test_done_at or parse_iso(d.test_done_at) + window > now:
        return False
    names = [v.name for v in campaign.variants]
    out_of_time = parse_iso(d.test_done_at) + window + timedelta(hours=config.ab.evidence_wait_hours) <= now
    result = ab.decide_winner(
        ports.sends.of_campaign(campaign.id),
        names,
        campaign.default_variant,
        config.ab.min_lead,
        now,
        min_delivered=campaign.ab.min_delivered or config.ab.min_delivered_per_variant,
        out_of_time=out_of_time,
    )
    if result is None:
        return False  # a variant is short of delivered sends: the test waits for evidence
    rollout = d.model_copy(update={"phase": "rollout", "cursor": None, "done": False})
    updated = campaign.model_copy(update={"ab_result": result, "winner": result["winner"], "dispatch": rollout})
    if ports.campaigns.save(updated, expect_status="running"):
        ports.dispatch_queue.send([dispatch_message(campaign.id, None)])
        return True
    return False


def tick_running(ports: FlowPorts, campaign: Campaign, config: SendingConfig, now: datetime) -> str | None:
    d = campaign.dispatch
    if d.waiting_until and parse_iso(d.waiting_until) <= now:
        waiting = d.model_copy(update={"waiting_until": None})
        if ports.campaigns.save(campaign.model_copy(update={"dispatch": waiting}), expect_status="running"):
            ports.dispatch_queue.send([dispatch_message(campaign.id, d.cursor)])
            return "dispatch resumed"
    if campaign.is_ab and decide_ab(ports, campaign, config, now):
        return "a/b decided"
    stalled = campaign.updated_at and parse_iso(campaign.updated_at) < now - timedelta(minutes=10)
    testing = d.phase == "test" and d.test_done_at
    if not d.done and not d.waiting_until and not testing and stalled:
        ports.dispatch_queue.send([dispatch_message(campaign.id, d.cursor)])  # a lost page message: go on
        return "dispatch nudged"
    if not d.done:
        return None
    ended = bool(campaign.ends_at) and parse_iso(campaign.ends_at or "") <= now
    if ended or open_items(list(ports.sends.of_campaign(campaign.id))) == 0:
        transition(ports.campaigns, campaign, "complete", now, status="completed", completed_at=iso(now))
        return "completed"
    return None


def campaign_tick(ports: FlowPorts, now: datetime) -> dict[str, Any]:
    """Starts scheduled campaigns, resumes tier-limited dispatch, decides A/B tests, completes."""
    config = ports.config.sending()
    summary: dict[str, str] = {}
    for campaign in ports.campaigns.active():
        if campaign.status == "scheduled" and campaign.retarget is not None:
            if started := retarget.start(ports, campaign, now):
                summary[campaign.id] = started
            continue
        if campaign.status == "scheduled":
            if start_scheduled(ports.campaigns, ports.dispatch_queue, campaign, now):
                summary[campaign.id] = "started"
            continue
        if campaign.status == "running":
            try:
                done = tick_running(ports, campaign, config, now)
            except Conflict:
                done = "changed meanwhile"
            if done:
                summary[campaign.id] = done
    return summary

"""The sender: each job from the queue to WhatsApp, exactly once or with a reason.

A batch's jobs run in parallel threads (functions/sender/app.py) on one Sender: the shared state
here (the batch's slot budget, prefetched profiles, the campaign cache) is safe for that.

Per job: campaign state (cached for a few seconds) -> the send item (already done? in flight?)
-> the rules (engage.delivery.policy: refuse or defer) -> personalisation -> the token buckets
(engage.delivery.throttle) -> the pair guard -> the intent (a conditional write BEFORE the API call)
-> WhatsApp -> the outcome. A redelivered job whose intent has no outcome is never resent
blindly: it is reconciled from what the status webhook wrote, and given up as
`unknown_outcome` after a grace period. Only errors that prove nothing was sent are retried.
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from engage.campaigns import campaign as campaign_ops
from engage.campaigns.campaign import Campaign
from engage.campaigns.ports import CampaignStore
from engage.core.errors import Invalid
from engage.core.observability import logger
from engage.core.ports import Alerts, Queue
from engage.core.time import iso, parse_iso
from engage.customers.ports import CustomerStore
from engage.customers.profiles import Customer
from engage.delivery.callback_data import callback_data
from engage.delivery.config import SendingConfig
from engage.delivery.jobs import SendJob, TemplateMessage, campaign_of
from engage.delivery.outbound import GraphError, SendResult
from engage.delivery.personalise import Context, MissingVariable, render, uses
from engage.delivery.policy import SendContext, decide, endpoint_for, past_sends
from engage.delivery.ports import (
    ConfigSource,
    CouponIssuer,
    LinkShortener,
    ProfileBatch,
    ReferralLinks,
    SendLedger,
    WhatsAppSender,
)
from engage.delivery.sends import DONE_STATES, SendItem, stored
from engage.delivery.throttle import BatchGate, Booking, Rate, Throttle, shards_for
from engage.delivery.whatsapp_errors import Action, account_wide, classify

REFERRAL_VARIABLES = {"referral_code", "referral_link"}
SQS_MAX_DELAY = 900
LAST_RECEIVE = 4  # the SendQueue's maxReceiveCount is 5: decide an unknown outcome before the DLQ
UNKNOWN_RECHECK_SECONDS = 120


class RetryLater(Exception):
    """Nothing was sent: the job goes back to the queue and is seen again after `delay` seconds."""

    def __init__(self, reason: str, delay: int):
        super().__init__(f"{reason} (retry in {delay} s)")
        self.reason = reason
        self.delay = delay


@dataclass(frozen=True)
class Outcome:
    action: str  # sent | deferred | parked | refused | failed | requeued | noop
    reason: str = ""
    wamid: str | None = None
    until: str | None = None
    throttle_wait_ms: float = 0  # how long the send waited for its token


@dataclass
class SenderPorts:
    customers: CustomerStore
    sends: SendLedger
    campaigns: CampaignStore
    whatsapp: WhatsAppSender
    throttle: Throttle
    queue: Queue
    alerts: Alerts
    config: ConfigSource
    shortener: LinkShortener
    phone_number_id: str
    profiles: ProfileBatch | None = None  # one read for a whole batch of customers
    coupons: CouponIssuer | None = None  # a campaign naming a coupon pool: one unique code per recipient
    referrals: ReferralLinks | None = None  # {{referral_code}} / {{referral_link}} of the recipient


@dataclass
class Sender:
    ports: SenderPorts
    clock: Callable[[], datetime]
    _campaigns: dict[str, tuple[datetime, Campaign | None]] = field(default_factory=dict)
    pending: int = 1  # jobs left in the current batch: token blocks are claimed for up to that many
    _profiles: dict[str, Customer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gate: BatchGate | None = None

    def expect(self, jobs: int, customer_ids: list[str] | None = None, *, together: bool = False) -> None:
        """The handler announces a batch: one bucket write can book slots for all of it, and one
        read fetches every profile (each is used once, for its job, then forgotten).

        `together`: the batch's jobs run side by side (threads), and each calls `finished()` when
        over; they then meet at a gate before booking, so one write per bucket books the batch."""
        self.pending = max(1, jobs)
        self._gate = BatchGate(jobs) if together and jobs > 1 else None
        self._profiles = {}
        if customer_ids and self.ports.profiles is not None:
            self._profiles = self.ports.profiles.get_many(customer_ids)

    def finished(self) -> None:
        """One job of the announced batch is over, whatever happened to it."""
        gate = self._gate
        if gate is not None:
            gate.done()

    def expect_bodies(self, bodies: list[str], *, together: bool = False) -> None:
        """`expect` for a batch of raw queue bodies (unreadable ones are left to the record handler)."""
        ids = []
        for body in bodies:
            try:
                ids.append(str(json.loads(body).get("customer_id") or ""))
            except (ValueError, AttributeError):
                continue
        self.expect(len(bodies), ids, together=together)

    def customer(self, customer_id: str) -> Customer | None:
        prefetched = self._profiles.pop(customer_id, None)
        return prefetched if prefetched is not None else self.ports.customers.get(customer_id)

    # ------------------------------------------------------------ campaign state (cached briefly)
    def campaign(self, campaign_id: str, config: SendingConfig, *, fresh: bool = False) -> Campaign | None:
        now = self.clock()
        cached = self._campaigns.get(campaign_id)
        if not fresh and cached and (now - cached[0]).total_seconds() < config.state_cache_seconds:
            return cached[1]
        found = self.ports.campaigns.get(campaign_id)
        self._campaigns[campaign_id] = (now, found)
        return found

    @staticmethod
    def gate(campaign: Campaign | None, now: datetime) -> tuple[str, str] | None:
        """(action, reason) when the campaign does not allow sending now, else None."""
        if campaign is None:
            return "refuse", "campaign_not_found"
        if campaign.status == "cancelled":
            return "refuse", "campaign_cancelled"
        if campaign.status == "completed" or (campaign.ends_at and now > parse_iso(campaign.ends_at)):
            return "refuse", "deferred_past_end"
        if campaign.status != "running":
            return "park", "campaign_paused"
        return None

    # ------------------------------------------------------------ the job
    def handle(self, job: SendJob, *, receive_count: int = 1) -> Outcome:
        now = self.clock()
        config = self.ports.config.sending()
        campaign_id = campaign_of(job)
        campaign = self.campaign(campaign_id, config) if campaign_id else None
        if campaign is not None and campaign.category != job.category:
            # WhatsApp recategorised the campaign's template since this job was queued: the
            # campaign's category now decides the rules (consent, caps, regions) and the route.
            job = job.model_copy(update={"category": campaign.category})
        customer = self.customer(job.customer_id)
        if customer is None:
            logger.info("send skipped: customer erased or unknown", extra={"customer_id": job.customer_id})
            return Outcome("noop", "customer_not_found")
        items, last_sent = self.ports.sends.history(customer.id)
        current = stored(next((i for i in items if i.get("send_key") == job.send_key), None))
        if current and current.state in DONE_STATES:
            return Outcome("noop", f"already_{current.state}")
        if current and current.state == "intent":
            return self.reconcile(current, now, config, receive_count)
        base = self.base_item(job, campaign, current)
        blocked = self.gate(campaign, now) if campaign_id else None
        if blocked:
            return self.blocked(job, base, blocked, now)
        context = self.context(job, campaign)
        history = past_sends(items, exclude_key=job.send_key)
        last = parse_iso(last_sent) if last_sent else None
        decision = decide(job, customer, history, config, now, context=context, last_sent=last)
        if decision.action == "refuse":
            return self.refuse(base, decision.reason, now)
        if decision.action == "defer" and decision.until is not None:
            return self.defer(job, base, decision.until, decision.reason, now)
        return self.send(job, customer, campaign, base, config, receive_count)

    def base_item(self, job: SendJob, campaign: Campaign | None, current: SendItem | None) -> SendItem:
        return SendItem(
            customer_id=job.customer_id,
            send_key=job.send_key,
            campaign_id=job.campaign_id,
            variant=job.variant,
            category=job.category,
            # a source's marketing send (a journey step) counts as promotional, as its caps were checked
            content=campaign.content
            if campaign
            else ("promotional" if job.category == "marketing" else "transactional"),
            urgent=bool(campaign and campaign.urgent),
            segment_id=campaign.segment_id if campaign else None,
            state="deferred",
            pair_retries=current.pair_retries if current else 0,
            deferred_once=True if current and (current.deferred_once or current.state == "deferred") else None,
        )

    @staticmethod
    def context(job: SendJob, campaign: Campaign | None) -> SendContext:
        if campaign is None:
            return SendContext(content="promotional" if job.category == "marketing" else "transactional")
        return SendContext(
            content=campaign.content, urgent=campaign.urgent, best_window=campaign.schedule.mode == "best_window"
        )

    # ------------------------------------------------------------ outcomes without a send
    def refuse(self, base: SendItem, reason: str, now: datetime, *, when: str = "open") -> Outcome:
        item = base.model_copy(update={"state": "refused", "reason": reason, "updated_at": iso(now)})
        self.ports.sends.save(item, when=when)
        logger.info(
            "send refused", extra={"customer_id": base.customer_id, "send_key": base.send_key, "reason": reason}
        )
        return Outcome("refused", reason)

    def defer(
        self, job: SendJob, base: SendItem, until: datetime, reason: str, now: datetime, *, when: str = "open"
    ) -> Outcome:
        """Deferred, never dropped: short waits ride on the queue's delay, longer ones on the index."""
        wait = (until - now).total_seconds()
        short = wait < SQS_MAX_DELAY
        item = base.model_copy(
            update={
                "state": "deferred",
                "deferred_once": True,
                "reason": reason,
                "release_at": None if short else iso(until),
                "job": None if short else job.model_dump(mode="json"),
                "updated_at": iso(now),
            }
        )
        if not self.ports.sends.save(item, when=when):
            return Outcome("noop", "in_flight")
        if short:
            again = job.model_copy(update={"attempt": job.attempt + 1, "reason": job.reason or reason})
            self.ports.queue.send([again.model_dump(mode="json")], delay_seconds=max(1, math.ceil(wait)))
        return Outcome("deferred", reason, until=iso(until))

    def park(self, job: SendJob, base: SendItem, reason: str, now: datetime, *, when: str = "open") -> Outcome:
        """The campaign is paused: keep the job on the send item; resume re-queues it."""
        item = base.model_copy(
            update={
                "state": "deferred",
                "deferred_once": True,
                "reason": reason,
                "parked": True,
                "job": job.model_dump(mode="json"),
                "updated_at": iso(now),
            }
        )
        self.ports.sends.save(item, when=when)
        return Outcome("parked", reason)

    def blocked(self, job: SendJob, base: SendItem, blocked: tuple[str, str], now: datetime) -> Outcome:
        action, reason = blocked
        if action == "park":
            return self.park(job, base, reason, now)
        return self.refuse(base, reason, now)

    def reconcile(self, current: SendItem, now: datetime, config: SendingConfig, receive_count: int) -> Outcome:
        """An intent without an outcome: a crash or a timeout after the call may have sent it.

        Status webhooks find the item through biz_opaque_callback_data within seconds; the job comes
        back every 2 minutes to look, and is given up before the queue's redrive would take it."""
        if current.wamid or current.status:
            self.ports.sends.mark_sent(
                current.model_copy(update={"state": "sent", "sent_at": current.sent_at or current.intent_at})
            )
            return Outcome("noop", "reconciled_sent", wamid=current.wamid)
        started = parse_iso(current.intent_at) if current.intent_at else now
        waiting = now - started < timedelta(minutes=config.retry.unknown_outcome_grace_minutes)
        if waiting and receive_count < LAST_RECEIVE:
            raise RetryLater("unknown_outcome", UNKNOWN_RECHECK_SECONDS)
        item = current.model_copy(
            update={"state": "failed", "reason": "unknown_outcome", "retryable": False, "updated_at": iso(now)}
        )
        self.ports.sends.save(item, when="intent")
        return Outcome("failed", "unknown_outcome")

    # ------------------------------------------------------------ the send
    def rates(self, campaign: Campaign | None, config: SendingConfig) -> list[Rate]:
        t = config.throttle
        paced = 1 - t.pace_margin
        number = t.number_throughput_per_second * (1 - t.inbound_headroom) * paced
        rates = [Rate(self.ports.phone_number_id, number, shards_for(number, t.shards))]
        per_second = campaign.rate(config) / 60 * paced if campaign is not None else 0.0
        # A campaign allowed at least the number's rate can never outrun it (its sends are some of the
        # number's): the number's bucket alone paces it, and no write books a bucket that cannot bind.
        if campaign is not None and per_second < number:
            rates.insert(0, Rate(f"CAMP#{campaign.id}", per_second))
        return rates

    def send(
        self,
        job: SendJob,
        customer: Customer,
        campaign: Campaign | None,
        base: SendItem,
        config: SendingConfig,
        receive_count: int,
    ) -> Outcome:
        now = self.clock()
        to = customer.wa_id or customer.user_id or ""
        coupon_code = campaign.coupon_code if campaign else None
        if campaign is not None and campaign.coupon_pool:
            coupon_code = self.coupon_for(campaign, customer.id, now)
            if coupon_code is None:  # never a message with an empty code
                return self.refuse(base, f"coupon_unavailable:{campaign.coupon_pool}", now)
        ctx = Context(
            customer=customer,
            campaign_id=job.campaign_id,
            variant=job.variant,
            now=now,
            coupon_code=coupon_code,
            referral=self.referral_for(job, customer.id, now),
            link_target=campaign.link if campaign else None,
            fallbacks=campaign.fallbacks if campaign else {},
            shortener=self.ports.shortener,
        )
        try:
            outbound = render(job, ctx, to=to, callback_data=callback(job))
        except MissingVariable as missing:
            return self.refuse(base, f"missing_variable:{missing.name}", now)
        except Invalid as error:  # content no retry can fix (a link stored before links were checked)
            logger.warning("send content refused", extra={"send_key": job.send_key, "code": error.code})
            return self.refuse(base, f"invalid_content:{error.code}", now)
        outbound.endpoint = endpoint_for(job, template_category(campaign, job))
        rates = self.rates(campaign, config)
        gate = self._gate
        if gate is not None:
            want = gate.arrive()
        else:
            with self._lock:
                want, self.pending = self.pending, max(1, self.pending - 1)
        asked_us = self.ports.throttle.clock_us()
        booking = self.ports.throttle.acquire(rates, want, together=gate is not None and want > 1)
        if booking is None:
            return self.requeue(job)
        now = self.clock()
        campaign_id = campaign_of(job)
        if campaign_id:  # pause and cancel take effect mid-batch (the cache is a few seconds old at most)
            blocked = self.gate(self.campaign(campaign_id, config), now)
            if blocked:
                self.ports.throttle.give_back(booking)
                return self.blocked(job, base, blocked, now)
        # WhatsApp's pair limit counts arrivals: the guard holds when this message leaves, after its wait.
        leaves = now + timedelta(microseconds=max(0, booking.at - self.ports.throttle.clock_us()))
        if not self.ports.sends.claim_pair(customer.id, leaves, config.pair_limit_seconds):
            self.ports.throttle.give_back(booking)
            return self.defer(job, base, now + timedelta(seconds=config.pair_limit_seconds), "pair_limit", now)
        intent = base.model_copy(update={"state": "intent", "intent_at": iso(now), "to": to, "updated_at": iso(now)})
        if not self.ports.sends.save(intent, when="open"):
            self.ports.throttle.give_back(booking)
            return Outcome("noop", "in_flight")
        self.ports.throttle.wait_until(booking.at)
        waited_ms = (self.ports.throttle.clock_us() - asked_us) / 1000
        result = self.ports.whatsapp.send(outbound)
        outcome = self.outcome(job, intent, result, customer, booking, receive_count)
        return replace(outcome, throttle_wait_ms=waited_ms) if outcome.action == "sent" else outcome

    def coupon_for(self, campaign: Campaign, customer_id: str, now: datetime) -> str | None:
        """The recipient's own code of the campaign's pool (idempotent: a redelivered job gets the same)."""
        if self.ports.coupons is None or not campaign.coupon_pool:
            return None
        return self.ports.coupons.issue(campaign.coupon_pool, customer_id, f"campaign:{campaign.id}", now)

    def referral_for(self, job: SendJob, customer_id: str, now: datetime) -> dict[str, str]:
        if self.ports.referrals is None or not uses(job, REFERRAL_VARIABLES):
            return {}
        return self.ports.referrals.variables(customer_id, now)

    def requeue(self, job: SendJob) -> Outcome:
        """No slot within `max_wait`: the rate is booked further ahead than this job can wait (a
        large audience at a low rate). The job goes back as a new message with a growing, spread
        delay rather than failing: a failed record counts towards the queue's maxReceiveCount and
        would end in the DLQ, however healthy the campaign."""
        again = job.model_copy(update={"attempt": job.attempt + 1})
        spread = 1 + (zlib.crc32(job.customer_id.encode()) % 1000) / 1000  # 1-2x, so retries do not bunch up
        delay = int(min(SQS_MAX_DELAY, 2 ** min(job.attempt + 1, 10) * spread))
        self.ports.queue.send([again.model_dump(mode="json")], delay_seconds=delay)
        return Outcome("requeued", "throttle_busy")

    # ------------------------------------------------------------ after the call
    def outcome(
        self,
        job: SendJob,
        intent: SendItem,
        result: SendResult,
        customer: Customer,
        booking: Booking,
        receive_count: int,
    ) -> Outcome:
        now = self.clock()
        if result.ok:
            sent = intent.model_copy(
                update={"state": "sent", "sent_at": intent.intent_at, "wamid": result.wamid, "wa_id": result.wa_id}
            )
            self.ports.sends.mark_sent(sent)
            if result.wa_id and not customer.wa_id:
                self.ports.customers.attach_identity(customer.id, wa_id=result.wa_id)
            return Outcome("sent", wamid=result.wamid)
        if result.unknown:
            logger.warning("send outcome unknown", extra={"send_key": job.send_key, "error": result.transport_error})
            raise RetryLater("unknown_outcome", UNKNOWN_RECHECK_SECONDS)
        if result.error is None:  # the request never left: safe to retry
            self.retrying(intent, "transport_error", None, now)
            self.ports.throttle.give_back(booking)
            raise RetryLater("transport_error", self.backoff(receive_count))
        return self.on_error(job, intent, result.error, booking, receive_count, now)

    def retrying(self, intent: SendItem, reason: str, error: GraphError | None, now: datetime) -> None:
        update: dict[str, Any] = {"state": "retrying", "reason": reason, "updated_at": iso(now)}
        if error:
            update.update(error_code=error.code, error_title=error.message[:200], fbtrace_id=error.fbtrace_id)
        self.ports.sends.save(intent.model_copy(update=update), when="intent")

    def backoff(self, receive_count: int) -> int:
        """base * 2^(n-1), never shorter than the pair limit (the failed attempt holds the pair guard)."""
        config = self.ports.config.sending()
        r = config.retry
        delay = min(r.max_seconds, r.base_seconds * 2 ** max(0, receive_count - 1))
        return int(max(math.ceil(config.pair_limit_seconds), delay))

    def on_error(
        self, job: SendJob, intent: SendItem, error: GraphError, booking: Booking, receive_count: int, now: datetime
    ) -> Outcome:
        action = classify(error)
        reason = f"whatsapp:{error.code}" if error.code else f"whatsapp:http_{error.http_status}"
        failed = intent.model_copy(
            update={"error_code": error.code, "error_title": error.message[:200], "fbtrace_id": error.fbtrace_id}
        )
        logger.info("whatsapp error", extra={"code": error.code, "action": str(action), "fbtrace_id": error.fbtrace_id})
        if action is Action.RETRY:
            self.retrying(intent, reason, error, now)
            self.ports.throttle.give_back(booking)  # it was not sent: the slot goes back
            delay = max(self.backoff(receive_count), min(error.retry_after or 0, SQS_MAX_DELAY))
            raise RetryLater(reason, delay)
        handler = ERROR_HANDLERS[action]
        return handler(self, job, failed, error, now)

    # the per-action handlers ------------------------------------------------
    def _pair_defer(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        delays = self.ports.config.sending().retry.pair_delays
        n = item.pair_retries
        if n >= len(delays):
            return self.refuse(item, "whatsapp:131056", now, when="intent")
        item = item.model_copy(update={"pair_retries": n + 1})
        return self.defer(job, item, now + timedelta(seconds=delays[n]), "whatsapp:131056", now, when="intent")

    def _wait_24h(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        hours = self.ports.config.sending().retry.per_user_wait_hours
        return self.defer(job, item, now + timedelta(hours=hours), "whatsapp:131049", now, when="intent")

    def _refuse(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        return self.refuse(item, f"whatsapp:{error.code}", now, when="intent")

    def _opt_out(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        self.ports.customers.update(
            item.customer_id, consent={"marketing": False, "updated_at": iso(now), "source": "whatsapp:131050"}
        )
        return self._refuse(job, item, error, now)

    def _undeliverable(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        self.ports.customers.update(item.customer_id, undeliverable=True)
        return self._refuse(job, item, error, now)

    def _pause_campaign(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        reason = f"whatsapp:{error.code}"
        failed = item.model_copy(
            update={"state": "failed", "reason": reason, "retryable": True, "updated_at": iso(now)}
        )
        self.ports.sends.save(failed, when="intent")
        campaign_id = campaign_of(job)
        if campaign_id and campaign_ops.halt(self.ports.campaigns, campaign_id, now, reason):
            self._campaigns.pop(campaign_id, None)
        self.alert(f"campaign paused: WhatsApp error {error.code}", error, job)
        return Outcome("failed", reason)

    def _halt(self, job: SendJob, item: SendItem, error: GraphError, now: datetime) -> Outcome:
        reason = f"whatsapp:{error.code}"
        targets = [c.id for c in self.ports.campaigns.active()] if account_wide(error) else []
        campaign_id = campaign_of(job)
        if campaign_id and campaign_id not in targets:
            targets.append(campaign_id)
        for campaign_id in targets:
            campaign_ops.halt(self.ports.campaigns, campaign_id, now, reason)
            self._campaigns.pop(campaign_id, None)
        self.alert(f"sending halted: WhatsApp error {error.code}", error, job)
        if campaign_id:
            return self.park(job, item, reason, now, when="intent")
        self.retrying(item, reason, error, now)
        raise RetryLater(reason, SQS_MAX_DELAY)

    def alert(self, subject: str, error: GraphError, job: SendJob) -> None:
        details = {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "fbtrace_id": error.fbtrace_id,
        }
        details.update(campaign_id=job.campaign_id, send_key=job.send_key)
        self.ports.alerts.publish(
            {"kind": "sending_halted", "title": subject, "message": error.message or subject, "details": details}
        )


ERROR_HANDLERS: dict[Action, Callable[[Sender, SendJob, SendItem, GraphError, datetime], Outcome]] = {
    Action.PAIR_DEFER: Sender._pair_defer,
    Action.WAIT_24H: Sender._wait_24h,
    Action.NEEDS_TEMPLATE: Sender._refuse,
    Action.SKIP: Sender._refuse,
    Action.OPT_OUT: Sender._opt_out,
    Action.UNDELIVERABLE: Sender._undeliverable,
    Action.PAUSE_CAMPAIGN: Sender._pause_campaign,
    Action.HALT: Sender._halt,
}


def template_category(campaign: Campaign | None, job: SendJob) -> str | None:
    """The category WhatsApp gives the job's template, as the campaign last heard it."""
    if campaign is None or not isinstance(job.message, TemplateMessage):
        return None
    return campaign.template_categories.get(job.message.template)


def callback(job: SendJob) -> str:
    return callback_data(job.customer_id, job.send_key)

"""The sender with in-memory ports: idempotency, reconciliation, every WhatsApp error, pause/cancel."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.delivery.outbound import GraphError, SendResult
from engage.delivery.sender import RetryLater
from tests.fakes.sending import T0, World, add_campaign, world


def customer(w: World, n: int = 1, **kw) -> Customer:
    data = {"id": f"c_{n:04x}", "wa_id": f"49151234{n:05d}", "name": "Asha", "consent": Consent(marketing=True)}
    data.update(kw)
    return w.customers.add(Customer(**data))


def job(c: Customer, cid: str = "cmp_1", body: list[str] | None = None) -> SendJob:
    message = TemplateMessage(template="winter", variables={"body": body or ["{{name}}"]})
    return SendJob(customer_id=c.id, send_key=cid, campaign_id=cid, variant="A", message=message)


@pytest.fixture
def w() -> World:
    w = world()
    add_campaign(w)
    return w


def test_a_job_is_sent_once_with_callback_data_and_recorded(w):
    c = customer(w)
    outcome = w.sender.handle(job(c))
    assert outcome.action == "sent"
    ((_, message),) = w.whatsapp.sent
    assert message.callback_data == f"{c.id}|cmp_1" and message.body == ["Asha"] and message.to == c.wa_id
    item = w.sends.get(c.id, "cmp_1")
    assert item.state == "sent" and item.wamid == outcome.wamid and item.sent_at == iso(T0)


def test_the_same_batch_delivered_twice_sends_nothing_twice(w):
    people = [customer(w, n) for n in range(1, 11)]
    batch = [job(c) for c in people]
    first = [w.sender.handle(j).action for j in batch]
    second = [w.sender.handle(j).action for j in batch]
    assert first == ["sent"] * 10
    assert second == ["noop"] * 10
    assert len(w.whatsapp.sent) == 10


class Crash(Exception):
    pass


def test_a_crash_between_the_api_call_and_the_record_never_sends_twice(w):
    c = customer(w)
    real_send = w.whatsapp.send

    def send_then_crash(message):
        real_send(message)
        raise Crash("lambda died after the call")

    w.whatsapp.send = send_then_crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        w.sender.handle(job(c))
    w.whatsapp.send = real_send  # type: ignore[method-assign]
    assert w.sends.get(c.id, "cmp_1").state == "intent"
    # redelivered before any status arrived: not resent, asked to come back
    with pytest.raises(RetryLater):
        w.sender.handle(job(c), receive_count=2)
    # the status webhook found the item through biz_opaque_callback_data
    item = w.sends.get(c.id, "cmp_1")
    w.sends._put(item.model_copy(update={"status": "delivered", "wamid": "wamid.x"}))
    assert w.sender.handle(job(c), receive_count=3).reason == "reconciled_sent"
    assert w.sends.get(c.id, "cmp_1").state == "sent"
    assert len(w.whatsapp.sent) == 1


def test_an_unknown_outcome_is_given_up_after_the_grace_period_not_resent(w):
    c = customer(w)
    w.whatsapp.script = [SendResult(unknown=True, transport_error="ReadTimeout")]
    with pytest.raises(RetryLater) as retry:
        w.sender.handle(job(c))
    assert retry.value.reason == "unknown_outcome"
    w.clock.advance(minutes=11)
    outcome = w.sender.handle(job(c), receive_count=2)
    assert (outcome.action, outcome.reason) == ("failed", "unknown_outcome")
    assert w.whatsapp.sent == []


def test_a_connection_error_proves_nothing_was_sent_and_is_retried(w):
    c = customer(w)
    w.whatsapp.script = [SendResult(transport_error="ConnectError")]
    with pytest.raises(RetryLater) as retry:
        w.sender.handle(job(c))
    assert w.sends.get(c.id, "cmp_1").state == "retrying"
    w.clock.advance(seconds=retry.value.delay)
    assert w.sender.handle(job(c), receive_count=2).action == "sent"


@pytest.mark.parametrize("code", [130429, 4, 80007, 131000, 131016, 131057])
def test_retryable_errors_return_the_job_with_backoff(w, code):
    c = customer(w)
    w.whatsapp.script = [code]
    with pytest.raises(RetryLater) as retry:
        w.sender.handle(job(c), receive_count=3)
    assert retry.value.delay == 8  # 2 s * 2^(3-1)
    item = w.sends.get(c.id, "cmp_1")
    assert (item.state, item.error_code) == ("retrying", code)
    w.clock.advance(seconds=retry.value.delay)
    assert w.sender.handle(job(c), receive_count=4).action == "sent"


def test_a_5xx_without_a_known_code_is_retried(w):
    c = customer(w)
    w.whatsapp.script = [SendResult(error=GraphError(code=999, http_status=503))]
    with pytest.raises(RetryLater):
        w.sender.handle(job(c))


def test_130429_gives_the_token_back(w):
    c = customer(w)
    before = dict(w.buckets.tat)
    w.whatsapp.script = [130429]
    with pytest.raises(RetryLater):
        w.sender.handle(job(c))
    w.sender.ports.throttle.release_unused()
    assert all(w.buckets.tat[k] <= max(before.get(k, 0), w.clock.us()) for k in w.buckets.tat)


def test_pair_rate_errors_defer_that_recipient_with_growing_delays(w):
    c = customer(w)
    delays = []
    for _ in range(5):
        w.whatsapp.script = [131056]
        outcome = w.sender.handle(job(c))
        assert (outcome.action, outcome.reason) == ("deferred", "whatsapp:131056")
        ((body, delay),) = w.queue.take()
        delays.append(delay)
        w.clock.advance(seconds=delay + 6)
    assert delays == [1, 4, 16, 64, 256]


def test_per_user_marketing_limit_waits_24_hours(w):
    c = customer(w)
    w.whatsapp.script = [131049]
    outcome = w.sender.handle(job(c))
    assert outcome.action == "deferred" and outcome.until == iso(T0 + timedelta(hours=24))
    item = w.sends.get(c.id, "cmp_1")
    assert item.release_at == iso(T0 + timedelta(hours=24)) and item.job is not None


@pytest.mark.parametrize(("code", "effect"), [(131047, None), (131050, "opt_out"), (131026, "undeliverable")])
def test_never_retry_errors_refuse_with_their_reason(w, code, effect):
    c = customer(w)
    w.whatsapp.script = [code]
    outcome = w.sender.handle(job(c))
    assert (outcome.action, outcome.reason) == ("refused", f"whatsapp:{code}")
    after = w.customers.get(c.id)
    if effect == "opt_out":
        assert after.consent.marketing is False and after.consent.source == "whatsapp:131050"
        assert w.sender.handle(job(c, "cmp_2")).reason in ("no_consent", "campaign_not_found")
    if effect == "undeliverable":
        assert after.undeliverable is True


@pytest.mark.parametrize("code", [132000, 132001, 100])
def test_request_errors_pause_the_campaign(w, code):
    c = customer(w)
    w.whatsapp.script = [code]
    outcome = w.sender.handle(job(c))
    assert (outcome.action, outcome.reason) == ("failed", f"whatsapp:{code}")
    assert w.campaigns.items["cmp_1"].status == "paused"
    assert w.alerts.published


@pytest.mark.parametrize("code", [190, 368, 131048, 132015, 132016, 131031, 131042])
def test_halt_errors_pause_campaigns_alert_and_park_the_job(w, code):
    add_campaign(w, "cmp_2")
    c = customer(w)
    w.whatsapp.script = [code]
    outcome = w.sender.handle(job(c))
    assert outcome.action == "parked"
    assert w.campaigns.items["cmp_1"].status == "paused"
    account_wide = code not in (132015, 132016)
    assert (w.campaigns.items["cmp_2"].status == "paused") is account_wide
    subject, details = w.alerts.published[0]
    assert details["code"] == code
    assert w.sends.get(c.id, "cmp_1").parked


def test_pause_takes_effect_within_the_cache_time_and_resume_never_resends(w):
    people = [customer(w, n) for n in range(1, 31)]
    outcomes = []
    for n, person in enumerate(people):
        if n == 10:
            w.campaigns.items["cmp_1"] = w.campaigns.items["cmp_1"].model_copy(update={"status": "paused"})
            paused_at = w.clock()
        outcomes.append((w.clock(), w.sender.handle(job(person)).action))
    late = [t for t, a in outcomes[10:] if a == "sent"]
    assert all(t - paused_at <= timedelta(seconds=3) for t in late)
    assert [a for _, a in outcomes[-5:]] == ["parked"] * 5
    sent_before = len(w.whatsapp.sent)
    # resume: every parked job is queued again, and everything runs once more (a redelivery storm)
    w.campaigns.items["cmp_1"] = w.campaigns.items["cmp_1"].model_copy(update={"status": "running"})
    w.clock.advance(seconds=5)
    again = [w.sender.handle(job(p)).action for p in people]
    assert again.count("sent") == len(people) - sent_before
    assert len(w.whatsapp.sent) == len(people)
    assert len({m.to for _, m in w.whatsapp.sent}) == len(people)


def test_cancel_refuses_the_rest(w):
    c1, c2 = customer(w, 1), customer(w, 2)
    assert w.sender.handle(job(c1)).action == "sent"
    w.campaigns.items["cmp_1"] = w.campaigns.items["cmp_1"].model_copy(update={"status": "cancelled"})
    w.clock.advance(seconds=4)
    assert w.sender.handle(job(c2)).reason == "campaign_cancelled"


def test_a_missing_variable_skips_with_a_reason_or_uses_the_fallback(w):
    c = customer(w, attributes={})
    outcome = w.sender.handle(job(c, body=["{{name}}", "{{last_product}}"]))
    assert (outcome.action, outcome.reason) == ("refused", "missing_variable:last_product")
    add_campaign(w, "cmp_2", fallbacks={"last_product": "our bestsellers"})
    assert w.sender.handle(job(c, "cmp_2", body=["{{last_product}}"])).action == "sent"
    assert w.whatsapp.sent[-1][1].body == ["our bestsellers"]


def test_username_users_are_addressed_by_user_id_and_the_returned_wa_id_is_kept(w):
    c = customer(w, wa_id=None, user_id="DE.1000000000000000001")
    w.whatsapp.script = [SendResult(wamid="wamid.u", wa_id="4915100000001")]
    assert w.sender.handle(job(c)).action == "sent"
    assert w.whatsapp.sent[0][1].to == "DE.1000000000000000001"
    assert w.sends.get(c.id, "cmp_1").wa_id == "4915100000001"
    assert w.customers.get(c.id).wa_id == "4915100000001"


def test_the_campaign_rate_holds_across_many_jobs(w):
    people = [customer(w, n) for n in range(1, 61)]
    for p in people:
        assert w.sender.handle(job(p)).action == "sent"
    times = sorted(t for t, _ in w.whatsapp.sent)
    per_second = max(sum(1 for t in times if start <= t < start + timedelta(seconds=1)) for start in times)
    assert per_second <= 3  # 180 a minute
    assert (times[-1] - times[0]).total_seconds() >= 59 / 3 - 0.01


def test_a_batch_run_side_by_side_books_its_slots_with_one_write_per_bucket():
    """Ten jobs in threads (as the Lambda handler runs them): two refused before needing a slot, the
    other eight meet at the gate and take one block each from the campaign's and the number's bucket."""
    from concurrent.futures import ThreadPoolExecutor

    w = world()
    add_campaign(w, rate_per_minute=3000)  # 50 a second: below the number's 71, so both buckets pace it
    people = [customer(w, n) for n in range(1, 9)]
    people += [customer(w, n, consent=Consent(marketing=False)) for n in range(9, 11)]
    w.sender.expect(len(people), [p.id for p in people], together=True)
    w.sender.ports.throttle.sleep = lambda seconds: None  # threads would add up their waits on the one virtual clock

    def run(person: Customer):
        try:
            return w.sender.handle(job(person))
        finally:
            w.sender.finished()

    with ThreadPoolExecutor(len(people)) as pool:
        outcomes = list(pool.map(run, people))
    assert sorted(o.action for o in outcomes) == ["refused"] * 2 + ["sent"] * 8
    assert len({m.callback_data for _, m in w.whatsapp.sent}) == 8  # each sent once
    assert w.buckets.requests == 2  # one claim on the campaign's bucket, one on the number's
    w.sender.ports.throttle.release_unused()
    assert w.buckets.requests == 2  # the blocks were used up: nothing to give back


def test_a_campaign_allowed_more_than_the_number_is_paced_by_the_number_bucket_alone():
    w = world()
    add_campaign(w, rate_per_minute=60_000)
    people = [customer(w, n) for n in range(1, 101)]
    for p in people:
        assert w.sender.handle(job(p)).action == "sent"
    assert set(w.buckets.tat) == {"1234567890#0"}  # no write ever books the campaign's bucket
    times = sorted(t for t, _ in w.whatsapp.sent)
    per_second = max(sum(1 for t in times if start <= t < start + timedelta(seconds=1)) for start in times)
    assert per_second <= 72  # the number's 80/s less the inbound headroom and the pace margin


def test_an_unknown_outcome_is_decided_before_the_queue_gives_the_job_to_the_dlq(w):
    c = customer(w)
    w.whatsapp.script = [SendResult(unknown=True, transport_error="ReadTimeout")]
    with pytest.raises(RetryLater):
        w.sender.handle(job(c), receive_count=1)
    w.clock.advance(minutes=2)
    with pytest.raises(RetryLater):
        w.sender.handle(job(c), receive_count=2)
    outcome = w.sender.handle(job(c), receive_count=4)
    assert (outcome.action, outcome.reason) == ("failed", "unknown_outcome")
    assert w.whatsapp.sent == []


def test_a_job_that_cannot_get_a_slot_in_time_is_requeued_with_a_growing_delay_not_failed(w):
    add_campaign(w, rate_per_minute=6)  # one slot every 10 s: far beyond the 8 s a job may wait
    first, second = customer(w, 1), customer(w, 2)
    assert w.sender.handle(job(first)).action == "sent"
    w.queue.take()
    outcome = w.sender.handle(job(second))
    assert (outcome.action, outcome.reason) == ("requeued", "throttle_busy")
    [(body, delay)] = w.queue.take()
    assert body["attempt"] == 1 and 2 <= delay <= 4 and w.whatsapp.sent[1:] == []
    again = SendJob.model_validate(body)
    outcome = w.sender.handle(again)  # no time has passed: still busy, and the delay grows
    [(body, delay)] = w.queue.take()
    assert outcome.action == "requeued" and body["attempt"] == 2 and 4 <= delay <= 8
    w.clock.advance(seconds=10)
    assert w.sender.handle(SendJob.model_validate(body)).action == "sent"
    assert [m.to for _, m in w.whatsapp.sent] == [first.wa_id, second.wa_id]


def test_the_pair_guard_holds_the_moment_the_message_leaves_after_its_throttle_wait(w, monkeypatch):
    """WhatsApp counts the pair limit on arrivals, so a send that waits 4 s for its slot guards from then."""
    c = customer(w)
    throttle = w.sender.ports.throttle
    book = throttle.acquire

    def booked_four_seconds_out(*args, **kwargs):
        booking = book(*args, **kwargs)
        return replace(booking, at=max(booking.at, throttle.clock_us() + 4_000_000))

    monkeypatch.setattr(throttle, "acquire", booked_four_seconds_out)
    assert w.sender.handle(job(c)).action == "sent"
    assert w.sends.guards[c.id] == iso(T0 + timedelta(seconds=4))

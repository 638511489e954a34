"""`release-deferred` in pages on moto: the real gsi2 shards, SendQueue and sender."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest


class RecordingQueue:
    """The real send queue, remembering every job queued on it."""

    def __init__(self, real: Any) -> None:
        self.real, self.jobs = real, []

    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        self.real.send(bodies, delay_seconds=delay_seconds)
        self.jobs.extend(bodies)


class DiesAtRelease:
    """The real ledger, but the invocation dies when it starts releasing page `page`."""

    def __init__(self, real: Any, page: int, page_size: int) -> None:
        self.real, self.releases_left = real, (page - 1) * page_size

    def due(self, now, page_size):
        return self.real.due(now, page_size)

    def release(self, item, now) -> bool:
        if self.releases_left == 0:
            raise RuntimeError("the invocation died between queue and release")
        self.releases_left -= 1
        return self.real.release(item, now)


def due_sends(n: int, now) -> list[str]:
    """n customers with consent, each with a deferred utility send released a minute ago."""
    from engage import wiring
    from engage.core.time import iso
    from engage.customers.profiles import resolve_customer
    from engage.delivery.jobs import SendJob, TemplateMessage
    from engage.delivery.sends import SendItem

    ids = []
    for i in range(n):
        customer, _ = resolve_customer(
            wiring.customers.repository(), wa_id=f"4915123{i:06d}", user_id=None, name="Kim", now=now
        )
        wiring.customers.repository().update(customer.id, consent={"marketing": True, "updated_at": iso(now)})
        job = SendJob(
            customer_id=customer.id, send_key="tx:order:1", category="utility", message=TemplateMessage(template="t")
        )
        item = SendItem(
            customer_id=customer.id,
            send_key="tx:order:1",
            state="deferred",
            release_at=iso(now - timedelta(minutes=1)),
            job=job.model_dump(mode="json"),
        )
        wiring.delivery.sends().save(item)
        ids.append(customer.id)
    return ids


def ports(**kw):
    from engage import wiring

    return replace(wiring.campaigns.flow_ports(), **kw)


def still_due(now) -> int:
    from engage import wiring

    return sum(1 for _ in wiring.delivery.sends().due(now, 100))


def test_several_pages_are_released_in_one_run_across_the_shards(stack):
    from engage import wiring
    from engage.campaigns import service as campaign_flow
    from engage.core.time import utcnow

    # Given 9 due sends spread over the gsi2 shards
    now = utcnow()
    ids = due_sends(9, now)
    queue = RecordingQueue(wiring.delivery.send_queue())
    # When the job runs with pages of 2 (each gsi2 read asks for 2 items at most)
    figures = campaign_flow.release_deferred(ports(send_queue=queue), now, page_size=2)
    # Then five pages went out, every job once, and nothing is left on the index
    assert figures == {"due": 9, "queued": 9, "released": 9, "pages": 5, "more": False}
    assert sorted(j["customer_id"] for j in queue.jobs) == sorted(ids)
    assert still_due(now) == 0
    stack.run_sender()
    assert len(stack.graph.sent) == 9


def test_the_rest_stays_due_when_the_budget_runs_out_and_the_next_run_releases_it(stack):
    from engage import wiring
    from engage.campaigns import service as campaign_flow
    from engage.core.time import iso, utcnow
    from functions.scheduler import app as scheduler

    # Given 7 due sends and a run with no time budget (it does one page, then stops)
    now = utcnow()
    due_sends(7, now)
    queue = RecordingQueue(wiring.delivery.send_queue())
    first = campaign_flow.release_deferred(ports(send_queue=queue), now, page_size=3, budget_seconds=0)
    # Then one page was released and the rest is still due
    assert first == {"due": 3, "queued": 3, "released": 3, "pages": 1, "more": True}
    assert still_due(now) == 4
    # When the next minute's run comes (through the scheduler, default page and budget)
    later = iso(now + timedelta(minutes=1))
    second = scheduler.lambda_handler({"schedule": "release-deferred", "now": later}, stack.context)
    # Then it releases the rest, and each customer gets one message
    assert second == {"due": 4, "queued": 4, "released": 4, "pages": 1, "more": False}
    assert still_due(now + timedelta(minutes=1)) == 0
    stack.run_sender()
    assert sorted(m["to"] for m in stack.graph.sent) == [f"4915123{i:06d}" for i in range(7)]


def test_a_crash_between_queue_and_release_requeues_that_page_once_and_sends_nothing_twice(stack):
    from engage import wiring
    from engage.campaigns import service as campaign_flow
    from engage.core.time import utcnow

    # Given 6 due sends, pages of 2, and an invocation that dies after queueing its second page
    now = utcnow()
    ids = due_sends(6, now)
    queue = RecordingQueue(wiring.delivery.send_queue())
    crashing = DiesAtRelease(wiring.delivery.sends(), page=2, page_size=2)
    with pytest.raises(RuntimeError):
        campaign_flow.release_deferred(ports(send_queue=queue, sends=crashing), now, page_size=2)
    assert len(queue.jobs) == 4 and still_due(now) == 4
    # When the next run completes
    figures = campaign_flow.release_deferred(ports(send_queue=queue), now, page_size=2)
    # Then the crashed page was queued once more, nothing else twice, nothing left due
    assert figures == {"due": 4, "queued": 4, "released": 4, "pages": 2, "more": False}
    counts = Counter(j["customer_id"] for j in queue.jobs)
    assert set(counts) == set(ids) and sorted(counts.values()) == [1, 1, 1, 1, 2, 2]
    # and the sender sends each message once: the second job finds its send item sent
    stack.run_sender()
    assert len(stack.graph.sent) == 6 and len({m["to"] for m in stack.graph.sent}) == 6
    assert {wiring.delivery.sends().get(i, "tx:order:1").state for i in ids} == {"sent"}


def test_a_due_item_deferred_again_before_its_release_keeps_its_new_release_time(stack):
    from engage import wiring
    from engage.core.time import iso, utcnow

    # Given a due item read by the release job, then deferred again by the sender to tomorrow
    now = utcnow()
    (customer_id,) = due_sends(1, now)
    (read,) = list(wiring.delivery.sends().due(now, 10))
    tomorrow = iso(now + timedelta(days=1))
    wiring.delivery.sends().save(read.model_copy(update={"release_at": tomorrow}))
    # When the release job releases what it read
    assert wiring.delivery.sends().release(read, now) is False
    # Then the new deferral is still on the index with its job
    item = wiring.delivery.sends().get(customer_id, "tx:order:1")
    assert item.release_at == tomorrow and item.job
    assert list(wiring.delivery.sends().due(now + timedelta(days=2), 10))[0].release_at == tomorrow

"""`release-deferred` in pages: queue a page, release it, go on while time is left (in memory)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from engage.campaigns import service as campaign_flow
from engage.campaigns.service import FlowPorts
from engage.core.time import iso
from engage.delivery.sends import SendItem
from tests.fakes.sending import T0, FakeCampaigns, FakeConfig, FakeQueue, FakeSends


class StepClock:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.t, self.step = 0.0, step

    def __call__(self) -> float:
        now, self.t = self.t, self.t + self.step
        return now


class CrashingQueue(FakeQueue):
    """A send queue whose process dies right after the `crash_after`-th batch has been queued."""

    def __init__(self, crash_after: int) -> None:
        super().__init__()
        self.crash_after = crash_after

    def send(self, bodies, *, delay_seconds: int = 0) -> None:
        super().send(bodies, delay_seconds=delay_seconds)
        self.crash_after -= 1
        if self.crash_after == 0:
            raise RuntimeError("the invocation died between queue and release")


def deferred(sends: FakeSends, n: int, release_at=T0 - timedelta(minutes=1)) -> list[str]:
    keys = []
    for i in range(n):
        customer_id = f"c_{i:06x}"
        job = {"customer_id": customer_id, "send_key": "cmp_1", "campaign_id": "cmp_1"}
        sends.save(
            SendItem(customer_id=customer_id, send_key="cmp_1", state="deferred", release_at=iso(release_at), job=job)
        )
        keys.append(customer_id)
    return keys


def flow(sends: FakeSends, queue: FakeQueue | None = None) -> FlowPorts:
    return FlowPorts(FakeCampaigns(), sends, queue or FakeQueue(), FakeQueue(), FakeConfig())


def still_due(sends: FakeSends) -> list[str]:
    return [i.customer_id for i in sends.items.values() if i.state == "deferred" and i.release_at and i.job]


def test_several_pages_are_queued_and_released_in_one_run():
    # Given 7 due items and pages of 3
    sends = FakeSends()
    deferred(sends, 7)
    ports = flow(sends)
    # When the job runs with time to spare
    figures = campaign_flow.release_deferred(ports, T0, page_size=3)
    # Then all three pages went out, each job once, and nothing is left due
    assert figures == {"due": 7, "queued": 7, "released": 7, "pages": 3, "more": False}
    assert sorted(b["customer_id"] for b, _ in ports.send_queue.sent) == [f"c_{i:06x}" for i in range(7)]
    assert still_due(sends) == []
    assert campaign_flow.release_deferred(ports, T0, page_size=3)["due"] == 0


def test_when_the_budget_runs_out_the_rest_stays_due_for_the_next_run():
    # Given 10 due items, pages of 3, and a clock that moves 10 s per read against a 15 s budget
    sends = FakeSends()
    deferred(sends, 10)
    ports = flow(sends)
    # When the job runs: after the second page 20 s have passed
    first = campaign_flow.release_deferred(ports, T0, page_size=3, budget_seconds=15, clock=StepClock(10))
    # Then two pages were released, the rest is still due with its job, and the run says so
    assert first == {"due": 6, "queued": 6, "released": 6, "pages": 2, "more": True}
    assert len(still_due(sends)) == 4
    # and the next minute's run releases the rest, each job queued exactly once overall
    second = campaign_flow.release_deferred(ports, T0 + timedelta(minutes=1), page_size=3)
    assert second == {"due": 4, "queued": 4, "released": 4, "pages": 2, "more": False}
    assert Counter(b["customer_id"] for b, _ in ports.send_queue.sent) == Counter(f"c_{i:06x}" for i in range(10))


def test_a_run_without_time_left_still_releases_one_page_and_reports_nothing_more_when_done():
    sends = FakeSends()
    deferred(sends, 3)
    figures = campaign_flow.release_deferred(flow(sends), T0, page_size=3, budget_seconds=0)
    assert figures == {"due": 3, "queued": 3, "released": 3, "pages": 1, "more": False}


def test_items_not_yet_due_are_left_alone():
    sends = FakeSends()
    deferred(sends, 2, release_at=T0 + timedelta(minutes=5))
    assert campaign_flow.release_deferred(flow(sends), T0)["due"] == 0
    assert len(still_due(sends)) == 2


def test_a_crash_between_queue_and_release_queues_that_page_once_more_at_most():
    # Given 7 due items in pages of 3, and a run that dies right after queueing its second page
    sends = FakeSends()
    deferred(sends, 7)
    queue = CrashingQueue(crash_after=2)
    with pytest.raises(RuntimeError):
        campaign_flow.release_deferred(flow(sends, queue), T0, page_size=3)
    # Then the first page is released and the second is still due
    assert len(still_due(sends)) == 4
    # When the next run completes
    figures = campaign_flow.release_deferred(flow(sends, queue), T0 + timedelta(minutes=1), page_size=3)
    # Then only the crashed page's jobs were queued twice, and nothing is left
    assert figures["released"] == 4 and still_due(sends) == []
    counts = Counter(b["customer_id"] for b, _ in queue.sent)
    assert set(counts) == {f"c_{i:06x}" for i in range(7)}
    assert sorted(counts.values()) == [1] * 4 + [2] * 3


def test_an_item_deferred_again_by_the_sender_before_its_release_keeps_its_new_job():
    # Given a due item whose job the sender handles as soon as it is queued, deferring it to tomorrow
    sends = FakeSends()
    (customer_id,) = deferred(sends, 1)
    tomorrow = iso(T0 + timedelta(days=1))

    class FastSender(FakeQueue):
        def send(self, bodies, *, delay_seconds: int = 0) -> None:
            super().send(bodies, delay_seconds=delay_seconds)
            item = sends.get(customer_id, "cmp_1")
            sends.save(item.model_copy(update={"release_at": tomorrow, "job": {"again": True}}))

    # When the release job runs
    figures = campaign_flow.release_deferred(flow(sends, FastSender()), T0)
    # Then the new deferral is not released: it keeps its job and its release time
    assert (figures["queued"], figures["released"]) == (1, 0)
    item = sends.get(customer_id, "cmp_1")
    assert (item.release_at, item.job) == (tomorrow, {"again": True})

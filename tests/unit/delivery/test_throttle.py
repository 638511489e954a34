"""The token bucket (GCRA slots) with a virtual clock and many concurrent senders."""

from __future__ import annotations

import heapq

from engage.delivery.throttle import MICRO, MemoryBuckets, Rate, Wallet
from tests.fakes.sending import max_in_window


def run(senders: int, rate: float, seconds: float, block: int = 10) -> list[int]:
    """Discrete-event simulation: every sender takes slots from its wallet and sends at each slot time."""
    store = MemoryBuckets()
    wallets = [Wallet(Rate("n", rate), store, block=block) for _ in range(senders)]
    events = [(0, i) for i in range(senders)]
    sends: list[int] = []
    end = int(seconds * MICRO)
    while events:
        now, i = heapq.heappop(events)
        if now >= end:
            continue
        _, claim = wallets[i].next_slot(now, block)
        if claim.first is None:
            heapq.heappush(events, (claim.retry_at, i))
            continue
        at = max(now, claim.first)
        if at < end:
            sends.append(at)
        heapq.heappush(events, (at + 2_000, i))  # 2 ms of work per send
    return sorted(sends)


def test_fifty_senders_never_exceed_the_rate_in_any_second():
    times = run(senders=50, rate=1000, seconds=5)
    assert max_in_window(times) <= 1000
    assert len(times) >= 0.98 * 5 * 1000


def test_a_slow_rate_is_exact_with_one_token_blocks():
    times = run(senders=4, rate=3, seconds=10)
    assert max_in_window(times) <= 3
    assert 29 <= len(times) <= 30


def test_giving_back_a_slot_lets_the_next_claim_reuse_it():
    store = MemoryBuckets()
    wallet = Wallet(Rate("n", 10), store, block=1)
    key, claim = wallet.next_slot(0, 1)
    assert claim.first is not None and wallet.give_back(key, claim.first)
    assert wallet.next_slot(0, 1)[1].first == claim.first


def test_a_slot_behind_another_senders_booking_is_not_given_back_so_slots_never_overlap():
    store = MemoryBuckets()
    mine, theirs = Wallet(Rate("n", 10), store, block=1), Wallet(Rate("n", 10), store, block=1)
    key, claim = mine.next_slot(0, 1)
    _, after = theirs.next_slot(0, 1)
    assert claim.first is not None and not mine.give_back(key, claim.first)
    _, later = theirs.next_slot(0, 1)
    assert (claim.first, after.first, later.first) == (0, 100_000, 200_000)


def test_unused_slots_at_the_end_of_a_batch_go_back_only_while_they_are_the_last_booked():
    store = MemoryBuckets()
    mine, theirs = Wallet(Rate("n", 10), store, block=5), Wallet(Rate("n", 10), store, block=5)
    mine.next_slot(0, 5)  # books 0..400 ms, uses the first
    assert mine.release_unused(0) == 4 and store.tat["n#0"] == 100_000
    mine.next_slot(0, 5)  # 100..500 ms
    theirs.next_slot(0, 5)  # 600..1000 ms: booked after ours
    assert mine.release_unused(0) == 0 and store.tat["n#0"] == 1_100_000


def throttle(clock, **kw):
    from engage.delivery.throttle import Throttle

    return Throttle(MemoryBuckets(), clock_us=clock.us, sleep=clock.sleep, **kw)


def test_a_slot_is_booked_a_lead_ahead_and_the_call_waits_for_it():
    from tests.fakes.sending import Clock

    clock = Clock()
    t = throttle(clock, lead_us=100_000)
    asked = clock.us()
    booking = t.acquire([Rate("CAMP#c", 10)])
    assert booking is not None
    assert booking.at == asked + 100_000 and clock.us() == asked  # booking does not wait
    clock.advance(seconds=0.03)  # the pair guard and the intent are written meanwhile
    t.wait_until(booking.at)
    assert clock.us() == booking.at


def test_a_job_that_would_wait_past_max_wait_gets_no_slot():
    from tests.fakes.sending import Clock

    clock = Clock()
    t = throttle(clock, lead_us=0, max_wait_us=2 * MICRO)
    rate = Rate("CAMP#slow", 0.25)  # a slot every 4 s
    assert t.acquire([rate]) is not None
    assert t.acquire([rate]) is None


def test_a_busy_number_moves_the_send_to_a_later_campaign_slot_never_between_two():
    from tests.fakes.sending import Clock

    clock = Clock()
    t = throttle(clock, lead_us=100_000, block=1)
    now = clock.us()
    t.store.claim("number#0", now_us=now, count=30, interval_us=10_000, lookahead_us=MICRO)  # others: 300 ms
    booking = t.acquire([Rate("CAMP#a", 2), Rate("number", 100)])
    assert booking is not None
    assert booking.at == now + 300_000 and booking.slots[0][2] == booking.at  # on a campaign slot
    again = t.acquire([Rate("CAMP#a", 2), Rate("number", 100)])
    assert again is not None and again.at - booking.at == 500_000  # the campaign's spacing holds


def test_a_number_booked_past_the_wait_gives_up_within_max_wait():
    from tests.fakes.sending import Clock

    clock = Clock()
    t = throttle(clock, lead_us=100_000, max_wait_us=8 * MICRO)
    now = clock.us()
    t.store.claim("number#0", now_us=now, count=2000, interval_us=10_000, lookahead_us=MICRO)  # 20 s booked
    assert t.acquire([Rate("CAMP#a", 2), Rate("number", 100)]) is None
    assert clock.us() - now <= 8 * MICRO + 100_000
    assert t.store.tat["CAMP#a#0"] <= now + 100_000  # the campaign's slot went back


def test_a_batch_gate_opens_when_every_job_arrived_or_finished():
    import threading

    from engage.delivery.throttle import BatchGate

    gate = BatchGate(3, timeout_s=30)
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(gate.arrive())) for _ in range(2)]
    for t in threads:
        t.start()
    gate.done()  # the third job was refused before it needed a slot
    for t in threads:
        t.join(timeout=5)
    assert got == [2, 2] and gate.opened
    assert gate.arrive() == 1  # a late job books for itself, as without a gate


def test_a_batch_gate_does_not_wait_longer_than_its_timeout_for_a_job_that_never_comes():
    from engage.delivery.throttle import BatchGate

    gate = BatchGate(3, timeout_s=0.01)
    assert gate.arrive() == 1 and gate.opened

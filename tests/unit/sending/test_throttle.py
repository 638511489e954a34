"""The token bucket (GCRA slots) with a virtual clock and many concurrent senders."""

from __future__ import annotations

import heapq

from engage.throttle import MICRO, MemoryBuckets, Rate, Wallet


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
        claim = wallets[i].next_slot(now, block)
        if claim.first is None:
            heapq.heappush(events, (claim.retry_at, i))
            continue
        at = max(now, claim.first)
        if at < end:
            sends.append(at)
        heapq.heappush(events, (at + 2_000, i))  # 2 ms of work per send
    return sorted(sends)


def max_in_window(times: list[int], window: int = MICRO) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


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
    first = wallet.next_slot(0, 1).first
    wallet.give_back(1)
    assert wallet.next_slot(0, 1).first == first

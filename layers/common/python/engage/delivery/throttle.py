"""The shared token bucket, as time slots (GCRA: the generic cell rate algorithm).

A bucket holds one number, `tat` (the theoretical arrival time of the next free slot, epoch
microseconds). Claiming n tokens at `now` books the n slots after max(tat, now), spaced
`interval` apart, and moves tat past them, in one conditional write:

- idle bucket (tat <= now): `SET tat = now + n*interval` if `tat <= now`;
- busy bucket: `ADD tat n*interval` if `tat <= now + lookahead`.

That is a bucket refilled continuously from the wall clock (a slot per interval, no refill job,
no fixed window) whose burst is bounded by the lookahead. Senders then wait until each slot's
time before sending, so the slots, not the senders, set the pace: any number of concurrent
senders together stay under the rate. Claiming blocks of slots keeps the item far below
DynamoDB's per-item write ceiling at 1,000 msg/s, and a batch's jobs meet at a `BatchGate` first,
so one write per bucket books the slots of the whole batch. Giving slots back is `ADD tat -k*interval` if they
are still the last booked (`tat` = their end): behind another sender's booking, a give-back would
hand out slots that overlap that sender's, so it is skipped and the slots are simply not used.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engage.delivery.ports import BucketStore

if TYPE_CHECKING:
    from engage.delivery.config import ThrottleConfig

MICRO = 1_000_000


@dataclass(frozen=True)
class Claim:
    """`first` is the first booked slot (epoch µs), or None when the bucket is booked beyond the
    lookahead; then `retry_at` says when to try again."""

    first: int | None
    retry_at: int = 0


class MemoryBuckets:
    """The same algorithm in memory (tests, simulation, the bucket benchmark's reference)."""

    def __init__(self) -> None:
        self.tat: dict[str, int] = {}
        self.requests = 0

    def claim(self, key: str, *, now_us: int, count: int, interval_us: int, lookahead_us: int) -> Claim:
        self.requests += 1
        tat = self.tat.get(key, 0)
        if tat <= now_us:
            self.tat[key] = now_us + count * interval_us
            return Claim(now_us)
        if tat <= now_us + lookahead_us:
            self.tat[key] = tat + count * interval_us
            return Claim(tat)
        return Claim(None, retry_at=tat - lookahead_us)

    def give_back(self, key: str, *, count: int, interval_us: int, end_us: int) -> bool:
        self.requests += 1
        if self.tat.get(key) != end_us:
            return False
        self.tat[key] = end_us - count * interval_us
        return True


@dataclass(frozen=True)
class Booking:
    """A send's slots: `at` is when to send (the latest of them); `slots` holds (rate key, bucket
    key, slot) per bucket, so this very send's slots can be given back."""

    at: int
    slots: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class Rate:
    """A bucket's key prefix and rate; `shards` split the rate over several items."""

    key: str
    per_second: float
    shards: int = 1

    @property
    def interval_us(self) -> int:
        return max(1, math.ceil(MICRO * self.shards / self.per_second))


def shards_for(per_second: float, configured: int) -> int:
    return configured if configured > 0 else max(1, math.ceil(per_second / 500))


@dataclass
class Wallet:
    """A sender's local slots for one bucket: claimed in blocks, used in order, stale ones dropped."""

    rate: Rate
    store: BucketStore
    block: int = 10
    lookahead_us: int = MICRO
    grace_us: int = 250_000
    slots: deque[int] = field(default_factory=deque)
    keys: deque[str] = field(default_factory=deque)  # the shard each slot was booked on
    pace_us: int = 0  # this sender's time between sends (moving average)
    _last_us: int = 0
    _turn: int = 0

    def _key(self) -> str:
        self._turn += 1
        return f"{self.rate.key}#{self._turn % self.rate.shards}"

    def _usable(self) -> int:
        """How many slots this sender can use before the first goes stale, at its own pace."""
        slower = self.pace_us - self.rate.interval_us
        return self.block if slower <= 0 else 1 + int(self.grace_us / slower)

    def _observe(self, now_us: int) -> None:
        if self._last_us:
            gap = min(now_us - self._last_us, 10 * MICRO)
            self.pace_us = gap if not self.pace_us else int(0.7 * self.pace_us + 0.3 * gap)
        self._last_us = now_us

    def next_slot(self, now_us: int, want: int, *, together: bool = False) -> tuple[str, Claim]:
        """The next slot (epoch µs) for this sender and the bucket key it is on, claiming a block of
        up to `want` when empty.

        Blocks are sized to what this sender can use at its own pace, so slow senders do not book
        slots only to drop them; `together` (jobs waiting at a `BatchGate`, taking their slots now)
        books all `want` at once."""
        self._observe(now_us)
        while self.slots and self.slots[0] < now_us - self.grace_us:
            self.slots.popleft()  # a slot we were too slow to use is lost, never saved up for a burst
            self.keys.popleft()
        if self.slots:
            return self.keys.popleft(), Claim(self.slots.popleft())
        usable = want if together else self._usable()
        size = max(1, min(self.block, want, int(self.lookahead_us * self.rate.per_second / MICRO) or 1, usable))
        key = self._key()
        claim = self.store.claim(
            key, now_us=now_us, count=size, interval_us=self.rate.interval_us, lookahead_us=self.lookahead_us
        )
        if claim.first is None:
            return key, claim
        self.slots.extend(claim.first + i * self.rate.interval_us for i in range(size))
        self.keys.extend([key] * size)
        return self.keys.popleft(), Claim(self.slots.popleft())

    def give_back(self, key: str, slot: int) -> bool:
        """Returns one slot this sender will not send on, if nothing was booked after it."""
        interval = self.rate.interval_us
        return self.store.give_back(key, count=1, interval_us=interval, end_us=slot + interval)

    def release_unused(self, now_us: int) -> int:
        """Returns booked future slots this sender will not use (end of a batch): per bucket they are
        the tail of its last block, given back if nothing was booked after them."""
        future: dict[str, list[int]] = {}
        for slot, key in zip(self.slots, self.keys, strict=True):
            if slot >= now_us:
                future.setdefault(key, []).append(slot)
        self.slots.clear()
        self.keys.clear()
        interval = self.rate.interval_us
        returned = 0
        for key, slots in future.items():
            if self.store.give_back(key, count=len(slots), interval_us=interval, end_us=max(slots) + interval):
                returned += len(slots)
        return returned


class BatchGate:
    """A batch's jobs meet here before booking slots, so the first books for all of them at once.

    The gate opens when every job of the batch has either arrived (it will send) or finished without
    sending (refused, deferred, a duplicate), or after `timeout_s` of real time at most; the waiting
    jobs then take consecutive slots of one block straight away, before any of them can go stale.
    Jobs arriving after it opened book on their own, as without a gate."""

    def __init__(self, expected: int, timeout_s: float = 1.0):
        self.expected = expected
        self.timeout_s = timeout_s
        self.arrived = 0
        self.finished = 0
        self.opened = expected <= 1
        self.together = 0  # how many jobs were waiting when it opened
        self._cond = threading.Condition()

    def arrive(self) -> int:
        """Waits for the rest of the batch; how many slots to book in one go (1 once it was open)."""
        with self._cond:
            if self.opened:
                return 1
            self.arrived += 1
            self._open_if_complete()
            if not self._cond.wait_for(lambda: self.opened, timeout=self.timeout_s):
                self._open()
            return max(1, self.together)

    def done(self) -> None:
        """A job of the batch is over (sent or not); one that never arrived no longer holds the gate."""
        with self._cond:
            self.finished += 1
            self._open_if_complete()

    def _open_if_complete(self) -> None:
        if not self.opened and self.arrived + self.finished >= self.expected:
            self._open()

    def _open(self) -> None:
        self.opened, self.together = True, self.arrived
        self._cond.notify_all()


class Throttle:
    """Slots from every bucket a send needs (the campaign's and the number's); sends at the latest."""

    def __init__(
        self,
        store: BucketStore,
        *,
        clock_us: Callable[[], int],
        sleep: Callable[[float], None],
        block: int = 10,
        lookahead_us: int = MICRO,
        grace_us: int = 100_000,
        max_wait_us: int = 8 * MICRO,
        lead_us: int = 100_000,
    ):
        self.store = store
        self.lead_us = lead_us
        self.clock_us = clock_us
        self.sleep = sleep
        self.block, self.lookahead_us, self.grace_us, self.max_wait_us = block, lookahead_us, grace_us, max_wait_us
        self.wallets: dict[str, Wallet] = {}
        # A batch's jobs acquire from several threads: wallets and the store's view change under
        # this lock, while the waits for a slot happen outside it.
        self._lock = threading.Lock()

    @classmethod
    def configured(
        cls, store: BucketStore, config: ThrottleConfig, *, clock_us: Callable[[], int], sleep: Callable[[float], None]
    ) -> Throttle:
        """A throttle with the stored settings (engage.delivery.config.ThrottleConfig), on any clock."""
        return cls(
            store,
            clock_us=clock_us,
            sleep=sleep,
            block=config.block,
            lookahead_us=int(config.lookahead_seconds * MICRO),
            grace_us=int(config.stale_grace_seconds * MICRO),
            max_wait_us=int(config.max_wait_seconds * MICRO),
            lead_us=int(config.lead_seconds * MICRO),
        )

    def wallet(self, rate: Rate) -> Wallet:
        found = self.wallets.get(rate.key)
        if found is None or found.rate != rate:
            found = Wallet(rate, self.store, self.block, self.lookahead_us, self.grace_us)
            self.wallets[rate.key] = found
        return found

    def acquire(self, rates: list[Rate], want: int = 1, *, together: bool = False) -> Booking | None:
        """Books a slot in every bucket; the booking says when to send. None when the wait would
        exceed `max_wait` (the caller re-queues the job).

        Slots are booked `lead` ahead of the clock: the work between the booking and the call (the
        pair guard, the intent) happens inside that lead, and `wait_until` then releases the call
        on the slot itself. Sends leave on their slots, not a write or two after them, so jitter
        in that work does not bunch them up.

        The first bucket (the campaign's) sets the moment; the others (the number's) are booked
        from the clock and must have room by then. When one has none (its next slot is later),
        the slots go back and the first bucket is asked again from that later slot, so a send
        always leaves on a slot of the first bucket and its spacing is never squeezed."""
        deadline = self.clock_us() + self.max_wait_us
        start = self.clock_us() + self.lead_us
        for _ in range(3):
            booked: list[tuple[str, str, int]] = []
            for rate in rates:
                slot = self._book(rate, want, start if not booked else None, booked, deadline, together)
                if slot is None:
                    self.give_back(Booking(0, tuple(booked)))
                    return None
                booked.append((rate.key, slot[0], slot[1]))
            first, latest = booked[0][2], max(s for _, _, s in booked)
            if latest <= first:
                return Booking(first, tuple(booked))
            self.give_back(Booking(0, tuple(booked)))
            start = latest
        return Booking(latest, tuple(booked))  # still contended: the later slot, a little off pace

    def _book(
        self,
        rate: Rate,
        want: int,
        start: int | None,
        booked: list[tuple[str, str, int]],
        deadline: int,
        together: bool = False,
    ) -> tuple[str, int] | None:
        """One bucket's slot (key, µs) from `start`, or for a later bucket first from the clock but
        never after the first bucket's slot, then (once it had to wait) from the clock; None past
        the deadline. Waits are measured from the `now` each claim was asked for."""
        first_try = True
        while True:
            with self._lock:
                clock = self.clock_us()
                if start is not None:
                    now = max(start, clock + self.lead_us)
                else:
                    now = min(clock, booked[0][2]) if first_try else clock
                first_try = False
                key, claim = self.wallet(rate).next_slot(now, want, together=together)
            if claim.first is not None:
                return key, claim.first
            if claim.retry_at - self.lead_us > deadline:
                return None
            self.sleep(max(0.0, (claim.retry_at - now) / MICRO))

    def wait_until(self, at_us: int) -> None:
        wait = at_us - self.clock_us()
        if wait > 0:
            self.sleep(wait / MICRO)

    def give_back(self, booking: Booking) -> None:
        """A booked send that did not happen (or that WhatsApp refused with 130429) returns its slots."""
        with self._lock:
            for rate_key, key, slot in booking.slots:
                found = self.wallets.get(rate_key)
                if found is not None:
                    found.give_back(key, slot)

    def release_unused(self) -> None:
        with self._lock:
            now = self.clock_us() + self.lead_us
            for wallet in self.wallets.values():
                wallet.release_unused(now)

"""Token buckets (GCRA slots, see engage.throttle) as single DynamoDB items.

BUCKET#<name>#<shard> / BUCKET   {tat: epoch µs of the next free slot}

One conditional UpdateItem per block claim. The adapter remembers the last tat it saw, so it
usually guesses the right variant (idle or busy) first; a wrong guess costs one more write.
"""

from __future__ import annotations

from engage.adapters.dynamo.keys import bucket_pk
from engage.adapters.dynamo.table import Table, Update
from engage.throttle import Claim

BUCKET_SK = "BUCKET"


class DynamoBuckets:
    def __init__(self, table: Table):
        self.table = table
        self.seen: dict[str, int] = {}
        self.busy: dict[str, bool] = {}  # was the bucket booked ahead when we last claimed?

    def _idle(self, key: str, now_us: int, count: int, interval_us: int) -> Claim | None:
        update = Update().set(tat=now_us + count * interval_us)
        condition = f"attribute_not_exists(tat) OR tat <= {update.value(now_us)}"
        if self.table.update(bucket_pk(key), BUCKET_SK, update, condition=condition):
            self.seen[key] = now_us + count * interval_us
            return Claim(now_us)
        return None

    def _busy(self, key: str, now_us: int, count: int, interval_us: int, lookahead_us: int) -> Claim | None:
        update = Update().add(tat=count * interval_us)
        condition = f"tat > {update.value(now_us)} AND tat <= {update.value(now_us + lookahead_us)}"
        new = self.table.update(bucket_pk(key), BUCKET_SK, update, condition=condition, return_new=True)
        if isinstance(new, dict):
            tat = int(new["tat"])
            self.seen[key] = tat
            return Claim(tat - count * interval_us)
        return None

    def claim(self, key: str, *, now_us: int, count: int, interval_us: int, lookahead_us: int) -> Claim:
        known = self.seen.get(key, 0)
        if known > now_us + lookahead_us:  # tat only grows (but for give-backs): no need to ask
            return Claim(None, retry_at=known - lookahead_us)
        seen = self.seen.get(key, 0)
        # Other senders keep a shared bucket booked ahead: after a busy claim, guess busy again
        # unless our last view is more than a lookahead old.
        busy_first = seen > now_us or (self.busy.get(key, False) and now_us - seen < lookahead_us)
        for busy in (busy_first, not busy_first):
            if busy:
                result = self._busy(key, now_us, count, interval_us, lookahead_us)
            else:
                result = self._idle(key, now_us, count, interval_us)
            if result is not None:
                self.busy[key] = busy
                return result
        item = self.table.get(bucket_pk(key), BUCKET_SK) or {}
        tat = int(item.get("tat", now_us))
        self.seen[key] = tat
        return Claim(None, retry_at=max(now_us, tat - lookahead_us))

    def give_back(self, key: str, *, count: int, interval_us: int) -> None:
        self.table.update(bucket_pk(key), BUCKET_SK, Update().add(tat=-count * interval_us))

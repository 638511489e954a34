"""Token buckets (GCRA slots, see engage.delivery.throttle) as single DynamoDB items.

BUCKET#<name>#<shard> / BUCKET   {tat: epoch µs of the next free slot}

One conditional UpdateItem per block claim, and per give-back (applied only while the slots are
the last booked). The adapter remembers the last tat it saw, so it usually guesses the right
variant (idle or busy) first; a wrong guess costs one more write, and a failed write returns the
tat as it is (ReturnValuesOnConditionCheckFailure), so no claim ever needs a read.
"""

from __future__ import annotations

from engage.adapters.dynamo.keys import bucket_pk
from engage.adapters.dynamo.table import Table, Update
from engage.delivery.throttle import Claim

BUCKET_SK = "BUCKET"


class DynamoBuckets:
    def __init__(self, table: Table):
        self.table = table
        self.seen: dict[str, int] = {}
        self.busy: dict[str, bool] = {}  # was the bucket booked ahead when we last claimed?

    def claim(self, key: str, *, now_us: int, count: int, interval_us: int, lookahead_us: int) -> Claim:
        known = self.seen.get(key, 0)
        if known > now_us + lookahead_us:  # tat only grows (but for give-backs): no need to ask
            return Claim(None, retry_at=known - lookahead_us)
        # Other senders keep a shared bucket booked ahead: after a busy claim, guess busy again
        # unless our last view is more than a lookahead old. A failed write answers with the tat
        # as it is, which settles the other variant, or the wait, without a read.
        busy = known > now_us or (self.busy.get(key, False) and now_us - known < lookahead_us)
        for _ in range(3):
            update = Update()
            if busy:
                update.add(tat=count * interval_us)
                condition = f"tat > {update.value(now_us)} AND tat <= {update.value(now_us + lookahead_us)}"
            else:
                update.set(tat=now_us + count * interval_us)
                condition = f"attribute_not_exists(tat) OR tat <= {update.value(now_us)}"
            done, item = self.table.update_or_current(bucket_pk(key), BUCKET_SK, update, condition=condition)
            tat = int(item["tat"]) if item and "tat" in item else None
            if done and tat is not None:
                self.seen[key], self.busy[key] = tat, busy
                return Claim(tat - count * interval_us)
            if tat is None:
                busy = False
                continue
            self.seen[key] = tat
            if tat > now_us + lookahead_us:
                return Claim(None, retry_at=tat - lookahead_us)
            busy = tat > now_us
        return Claim(None, retry_at=now_us)  # lost three races in a row: ask again at once

    def give_back(self, key: str, *, count: int, interval_us: int, end_us: int) -> bool:
        update = Update().add(tat=-count * interval_us)
        condition = f"tat = {update.value(end_us)}"
        if not self.table.update(bucket_pk(key), BUCKET_SK, update, condition=condition):
            return False
        if self.seen.get(key) == end_us:
            self.seen[key] = end_us - count * interval_us
        return True

"""Send items, their pointers and the pair guard (see engage.delivery.sends and docs/data-model.md).

CUST#<id> / SEND#<send_key>   gsi2 = DEFERRED#<shard> / <release iso>  (deferred with a release time)
                                   | PAUSED#<campaign> / <parked iso>  (parked while the campaign is paused)
CUST#<id> / SENDGUARD         last_sent_at (the pair limit, claimed conditionally)
WAMID#<wamid> / SEND          -> customer_id, send_key (written before; read, no longer written)
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from engage.adapters.dynamo.keys import (
    audience_pk,
    audience_sk,
    customer_pk,
    deferred_index_pk,
    is_send_sk,
    paused_index_pk,
    send_guard_sk,
    send_sk,
)
from engage.adapters.dynamo.table import Table, Update
from engage.core.time import epoch, iso, utcnow
from engage.delivery.sends import OPEN_STATES, SendItem, stored

DEFERRED_SHARDS = 8
DEFAULT_RETENTION_DAYS = 180  # engage.core.settings.RetentionSettings
CONDITIONS = {
    "open": "attribute_not_exists(pk) OR #state IN (:o0, :o1)",
    "intent": "#state = :intent",
}


def deferred_shard(customer_id: str) -> int:
    return zlib.crc32(customer_id.encode()) % DEFERRED_SHARDS


def send_item(item: SendItem, expires_at: int | None = None) -> dict[str, Any]:
    body = item.model_dump(exclude_none=True)
    if expires_at:
        body["expires_at"] = expires_at  # TTL: the retention setting (docs/data-model.md "Retention")
    body["pk"], body["sk"] = customer_pk(item.customer_id), send_sk(item.send_key)
    # No campaign index entry (it cost a write unit a send): a campaign's sends are read through its
    # audience snapshot, whose members' send items have the campaign id as their send key.
    if item.state == "deferred" and item.parked and item.campaign_id:
        body["gsi2pk"], body["gsi2sk"] = paused_index_pk(item.campaign_id), item.updated_at or ""
    elif item.state == "deferred" and item.release_at:
        body["gsi2pk"], body["gsi2sk"] = deferred_index_pk(deferred_shard(item.customer_id)), item.release_at
    return body


def without_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """A send item's attributes without the table's keys and index keys."""
    return {k: v for k, v in raw.items() if k not in ("pk", "sk") and not k.startswith("gsi")}


def read_send(raw: dict[str, Any] | None) -> SendItem | None:
    return stored(without_keys(raw)) if raw else None


class SendRepository:
    def __init__(self, table: Table, retention_days: int = DEFAULT_RETENTION_DAYS, clock: Any = utcnow):
        self.table = table
        self.retention = timedelta(days=retention_days)
        self.clock = clock

    def expires_at(self) -> int:
        return epoch(self.clock() + self.retention)

    def history(self, customer_id: str) -> tuple[list[dict[str, Any]], str | None]:
        items = list(self.table.query(customer_pk(customer_id), sk_prefix="SEND", consistent=True))
        guard = next((i for i in items if i["sk"] == send_guard_sk()), None)
        return [without_keys(i) for i in items if is_send_sk(i["sk"])], (guard or {}).get("last_sent_at")

    def get(self, customer_id: str, send_key: str) -> SendItem | None:
        return read_send(self.table.get(customer_pk(customer_id), send_sk(send_key)))

    def save(self, item: SendItem, *, when: str = "open") -> bool:
        body = send_item(item, self.expires_at())
        if when == "always":
            return self.table.put(body)
        values = {":o0": OPEN_STATES[0], ":o1": OPEN_STATES[1]} if when == "open" else {":intent": "intent"}
        return self.table.put(body, condition=CONDITIONS[when], names={"#state": "state"}, values=values)

    def mark_sent(self, item: SendItem) -> None:
        """The outcome of an accepted send; keeps any status a fast webhook wrote already.

        No wamid pointer is written: statuses find the item through their callback data, and a
        reply quoting the wamid finds it among the customer's send items (engage.inbound.replies).

        Only what the call taught us: the intent was a whole-item put (its `to`, time and no
        deferral fields), so nothing needs removing, and a short expression is a cheap write."""
        update = (
            Update()
            .set(state="sent", sent_at=item.sent_at, wamid=item.wamid)
            .set_if_absent(status="accepted", status_rank=0)
        )
        if item.wa_id:
            update.set(wa_id=item.wa_id)
        self.table.update(customer_pk(item.customer_id), send_sk(item.send_key), update)

    def claim_pair(self, customer_id: str, now: datetime, seconds: float) -> bool:
        update = Update().set(last_sent_at=iso(now), type="send_guard")
        cutoff = update.value(iso(now - timedelta(seconds=seconds)))
        condition = f"attribute_not_exists(last_sent_at) OR last_sent_at <= {cutoff}"
        return bool(self.table.update(customer_pk(customer_id), send_guard_sk(), update, condition=condition))

    def due(self, now: datetime, page_size: int) -> Iterator[SendItem]:
        """Due deferred items, shard after shard, read lazily `page_size` a request. The query
        cursor moves on, so an item released meanwhile is not read again by this iterator."""
        for shard in range(DEFERRED_SHARDS):
            for raw in self.table.query(
                deferred_index_pk(shard), index="gsi2", sk_between=("0000", iso(now)), page_size=page_size
            ):
                item = read_send(raw)
                if item:
                    yield item

    def release(self, item: SendItem, now: datetime) -> bool:
        """Takes the item off its index once its job is queued again (a second release is a no-op).

        A due item is released only if it still has the release time it was read with: the sender
        may have run its queued job meanwhile and deferred (or parked) it again, with a new job."""
        update = Update().set(released_at=iso(now), parked=False).remove("gsi2pk", "gsi2sk", "release_at", "job")
        condition = f"#s = {update.value('deferred')} AND attribute_exists(gsi2pk)"
        if item.release_at:
            condition += f" AND {update.name('release_at')} = {update.value(item.release_at)}"
        update.names["#s"] = "state"
        return bool(
            self.table.update(customer_pk(item.customer_id), send_sk(item.send_key), update, condition=condition)
        )

    def parked(self, campaign_id: str) -> Iterator[SendItem]:
        for raw in self.table.query(paused_index_pk(campaign_id), index="gsi2"):
            item = read_send(raw)
            if item:
                yield item

    def of_campaign(self, campaign_id: str, page_size: int = 100) -> Iterator[SendItem]:
        """The campaign's send items: its audience members (`CAMP#<id> / AUD#<customer>`, in customer
        order), then their `SEND#<campaign id>` items by key, a page at a time (members not sent to
        yet have none)."""
        members = self.table.query(audience_pk(campaign_id), sk_prefix=audience_sk(""), page_size=page_size)
        while page := [m["customer_id"] for m in islice(members, page_size) if m.get("customer_id")]:
            found = self.table.batch_get([(customer_pk(c), send_sk(campaign_id)) for c in page], consistent=False)
            by_customer = {raw.get("customer_id"): raw for raw in found}
            for customer_id in page:
                item = read_send(by_customer.get(customer_id))
                if item:
                    yield item

"""Tracked links and their clicks.

LINK#<code> / LINK   the link (customer, campaign, variant, label, target, send key, expires_at = TTL),
                     with `clicks` (human) and `bot_hits` totals.
A human click is one transaction: the customer's `link_clicked` history event (conditional on
its click id, so a retried request counts once), the link's total and the campaign/day counters.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from engage.adapters.dynamo.keys import customer_pk, event_sk, link_pk, send_sk
from engage.adapters.dynamo.metrics_counters import CounterRepository, shard_of
from engage.adapters.dynamo.table import Table, Update, to_dynamo
from engage.core.time import iso
from engage.metrics.counters import NO_DIMENSION
from engage.metrics.links import Click, TrackedLink

LINK_SK = "LINK"


class LinkRepository:
    def __init__(self, table: Table, counters: CounterRepository):
        self.table = table
        self.counters = counters

    def create(self, link: TrackedLink) -> bool:
        item = {"pk": link_pk(link.code), "sk": LINK_SK, "type": "link", **link.model_dump()}
        return self.table.put(item, if_absent=True)

    def get(self, code: str) -> TrackedLink | None:
        item = self.table.get(link_pk(code), LINK_SK, consistent=False)
        return TrackedLink.model_validate(item) if item else None

    def mark_clicked(self, customer_id: str, send_key: str, at: datetime) -> dict[str, Any] | None:
        result = self.table.update(
            customer_pk(customer_id),
            send_sk(send_key),
            Update().set_if_absent(clicked_at=iso(at)),
            condition="attribute_exists(pk)",  # never create a stub send item
            return_new=True,
        )
        return result if isinstance(result, dict) else None

    def record_bot_hit(self, code: str, at: datetime) -> None:
        update = Update().add(bot_hits=1).set(last_bot_hit_at=iso(at))
        self.table.update(link_pk(code), LINK_SK, update, condition="attribute_exists(pk)")

    def record_click(self, click: Click) -> bool:
        link = click.link
        occurred_at = iso(click.at)
        event = {
            "pk": customer_pk(link.customer_id),
            "sk": event_sk(occurred_at, "link_clicked", click.click_id),
            "type": "event",
            "kind": "link_clicked",
            "event_id": click.click_id,
            "customer_id": link.customer_id,
            "occurred_at": occurred_at,
            "data": {
                "label": link.label,
                "target": link.target,
                "campaign_id": link.campaign_id,
                "variant": link.variant,
                "code": link.code,
            },
        }
        link_update = Update().add(clicks=1).set(last_clicked_at=occurred_at)
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": to_dynamo(event),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Update": link_update.request(link_pk(link.code), LINK_SK, table=self.table.name)},
        ]
        actions += self.counters.counter_updates(
            campaign_id=link.campaign_id,
            variant=link.variant or NO_DIMENSION,
            segment_id=click.segment_id or NO_DIMENSION,
            day=click.day,
            shard=shard_of(click.click_id, shards=self.counters.shards),
            attributes=Counter(clicks=1),
        )
        return not self.counters.transact(actions)

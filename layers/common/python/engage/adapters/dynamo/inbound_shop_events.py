"""Shop events written once: the event-id claim, the history item and the aggregates in one transaction.

SHOPEVT#<id> / EVENT                       the claim (expires after a year through TTL)
CUST#<id> / EVT#<time>#<kind>#<id>         the history item (keys.event_sk)
CUST#<id> / PROFILE                        orders, total_spent, coupon_orders, item_count, item_value,
                                           first/last_order_at, order_times (list), last_interaction_at
STATS / SHOP                               orders, item_count, item_value over the whole shop
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engage.adapters.dynamo.customers import PROFILE, name_index
from engage.adapters.dynamo.keys import SHOP_STATS_SK, STATS_PK, customer_pk, event_sk, shop_event_pk
from engage.adapters.dynamo.table import Table, Update
from engage.core.time import epoch, parse_iso
from engage.inbound.shop_events import ProfileDelta

CLAIM_DAYS = 400


def profile_update(delta: ProfileDelta) -> Update:
    update = Update().set(**delta.set)
    if delta.add:
        update.add(**delta.add)
    return update


def update_action(pk: str, sk: str, update: Update, extra_set: list[str], condition: str | None) -> dict[str, Any]:
    expression = update.expression()
    if extra_set:
        if "SET " in expression:
            expression = expression.replace("SET ", "SET " + ", ".join(extra_set) + ", ", 1)
        else:
            expression = "SET " + ", ".join(extra_set) + (" " + expression if expression else "")
    action: dict[str, Any] = {"Key": {"pk": pk, "sk": sk}, "UpdateExpression": expression}
    if update.names:
        action["ExpressionAttributeNames"] = update.names
    if update.values:
        action["ExpressionAttributeValues"] = update.values
    if condition:
        action["ConditionExpression"] = condition
    return {"Update": action}


class ShopEventRepository:
    def __init__(self, table: Table):
        self.table = table

    def record(self, item: dict[str, Any], delta: ProfileDelta, shop_add: dict[str, float]) -> bool:
        customer_id, event_id, at = item["customer_id"], item["event_id"], item["occurred_at"]
        claim = {
            "pk": shop_event_pk(event_id),
            "sk": "EVENT",
            "type": "shop_event_claim",
            "customer_id": customer_id,
            "kind": item["kind"],
            "occurred_at": at,
            "expires_at": epoch(parse_iso(at) + timedelta(days=CLAIM_DAYS)),
        }
        history = {"pk": customer_pk(customer_id), "sk": event_sk(at, item["kind"], event_id), **item}
        absent = "attribute_not_exists(pk)"
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": claim, "ConditionExpression": absent}},
            {"Put": {"Item": history, "ConditionExpression": absent}},
        ]
        profile = self._profile_action(customer_id, delta)
        if profile:
            actions.append(profile)
        if shop_add:
            actions.append(update_action(STATS_PK, SHOP_STATS_SK, Update().add(**shop_add), [], None))
        return self.table.transact(actions)

    def _profile_action(self, customer_id: str, delta: ProfileDelta) -> dict[str, Any] | None:
        update = profile_update(delta)
        if delta.set.get("name"):
            update.set(**name_index(customer_id, delta.set["name"]))  # the name index follows the name
        extra: list[str] = []
        if delta.order_time:
            name, value, empty = update.name("order_times"), update.value([delta.order_time]), update.value([])
            extra.append(f"{name} = list_append(if_not_exists({name}, {empty}), {value})")
        if delta.attributes:
            attrs = update.name("attributes")
            extra += [f"{attrs}.{update.name(k)} = {update.value(v)}" for k, v in delta.attributes.items()]
        if not extra and not update.expression():
            return None
        return update_action(customer_pk(customer_id), PROFILE, update, extra, "attribute_exists(pk)")

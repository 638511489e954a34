"""Coupon pools and codes in the single table (docs/data-model.md, docs/rewards.md).

COUPONPOOLS        / POOL#<id>            a pool, with issued / redeemed / expired / revenue counters
COUPON#<code>      / CODE                 one code: state, holder, validity, redemption; gsi2 while issued
COUPONPOOL#<pool>  / CLAIM#<claim>        the code a (customer[, reason]) claim got: idempotent issue
COUPONPOOL#<pool>  / AVAIL#<code>         an imported code not issued yet
CUST#<id>          / EVT#...#coupon_*     the customer's history: issued, redeemed, refused

Issuing is one TransactWriteItems: the claim and the code are conditional puts (both unique), the
pool's count is conditional on the pool being open, so two issuers can never get the same code and
one claim never gets two. `expires_at` is an ISO string: the table's TTL reads numbers only, so no
code is ever deleted by it (expiry is a state).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from engage.adapters.dynamo import keys
from engage.adapters.dynamo.inbound_messages import event_item
from engage.adapters.dynamo.table import Table, Update, to_dynamo
from engage.core.time import iso
from engage.inbound.history import HistoryEvent
from engage.rewards.coupons import Coupon, Grant, Pool, Redemption
from engage.rewards.ports import IssueResult, RedeemResult

AVAILABLE_PICK = 25  # imported codes read per issue; racing issuers pick at random among them


def history_item(customer_id: str, at: str, kind: str, event_id: str, data: dict[str, Any]) -> dict[str, Any]:
    event = HistoryEvent(
        customer_id=customer_id, kind=kind, event_id=event_id, occurred_at=at, received_at=at, data=data
    )
    return event_item(event)


def put_if_absent(item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def update_action(pk: str, sk: str, update: Update, condition: str | None = None) -> dict[str, Any]:
    return {"Update": update.request(pk, sk, condition)}


def transact(table: Table, actions: list[dict[str, Any]]) -> list[str] | None:
    """Runs the transaction; None when it was written, else each action's cancellation code
    ("None" for the actions that did not fail)."""
    for action in actions:
        next(iter(action.values()))["TableName"] = table.name
    try:
        table.client.transact_write_items(TransactItems=to_dynamo(actions))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [str(r.get("Code") or "None") for r in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" not in reasons:
            raise
        return reasons
    return None


class CouponRepository:
    def __init__(self, table: Table):
        self.table = table

    # ---------------------------------------------------------------- pools
    def put_pool(self, pool: Pool) -> None:
        item = {"pk": keys.COUPON_POOLS_PK, "sk": keys.coupon_pool_sk(pool.id), "type": "coupon_pool"}
        self.table.put({**item, **pool.model_dump()}, if_absent=True)

    def pool(self, pool_id: str) -> Pool | None:
        item = self.table.get(keys.COUPON_POOLS_PK, keys.coupon_pool_sk(pool_id))
        return Pool.model_validate(item) if item else None

    def pools(self) -> list[Pool]:
        return [Pool.model_validate(i) for i in self.table.query(keys.COUPON_POOLS_PK, sk_prefix="POOL#")]

    def update_pool(self, pool_id: str, fields: dict[str, Any]) -> Pool | None:
        found = self.table.update(
            keys.COUPON_POOLS_PK,
            keys.coupon_pool_sk(pool_id),
            Update().set(**fields),
            condition="attribute_exists(pk)",
            return_new=True,
        )
        return Pool.model_validate(found) if isinstance(found, dict) else None

    # ---------------------------------------------------------------- issuing
    def claimed(self, pool_id: str, claim: str) -> str | None:
        item = self.table.get(*keys.coupon_claim_key(pool_id, claim))
        return str(item["code"]) if item else None

    def issue(self, grant: Grant, *, imported: bool) -> IssueResult:
        claim_pk, claim_sk = keys.coupon_claim_key(grant.pool_id, grant.claim)
        code_pk, code_sk = keys.coupon_key(grant.code)
        gsi2pk, gsi2sk = keys.coupon_expiry_index(grant.code, grant.pool_id, grant.expires_at)
        holder = {
            "state": "issued",
            "customer_id": grant.customer_id,
            "reason": grant.reason,
            "issued_at": grant.issued_at,
            "expires_at": grant.expires_at,
            "gsi2pk": gsi2pk,
            "gsi2sk": gsi2sk,
        }
        claim = {"pk": claim_pk, "sk": claim_sk, "type": "coupon_claim", "code": grant.code, **holder}
        if imported:
            set_holder = Update().set(**holder)
            code_action = update_action(
                code_pk, code_sk, set_holder, f"{set_holder.name('state')} = {set_holder.value('available')}"
            )
        else:
            code_item = {"pk": code_pk, "sk": code_sk, "type": "coupon", "code": grant.code, "pool_id": grant.pool_id}
            code_action = put_if_absent({**code_item, **holder})
        count = Update().add(issued=1)
        pool_action = update_action(
            keys.COUPON_POOLS_PK,
            keys.coupon_pool_sk(grant.pool_id),
            count,
            f"{count.name('status')} = {count.value('open')}",
        )
        data = {"code": grant.code, "pool_id": grant.pool_id, "reason": grant.reason, "expires_at": grant.expires_at}
        actions = [
            put_if_absent(claim),
            code_action,
            pool_action,
            put_if_absent(history_item(grant.customer_id, grant.issued_at, "coupon_issued", grant.code, data)),
        ]
        if imported:
            avail_pk, avail_sk = keys.coupon_available_key(grant.pool_id, grant.code)
            actions.append({"Delete": {"Key": {"pk": avail_pk, "sk": avail_sk}}})
        failed = transact(self.table, actions)
        if failed is None:
            return "issued"
        if failed[0] == "ConditionalCheckFailed":
            return "claimed"
        if failed[2] == "ConditionalCheckFailed":
            return "closed"
        return "taken" if imported else "collision"

    def available(self, pool_id: str) -> list[str]:
        pk, prefix = keys.coupon_available_key(pool_id, "")
        found = self.table.query(pk, sk_prefix=prefix, limit=AVAILABLE_PICK, page_size=AVAILABLE_PICK)
        return [str(i["code"]) for i in found]

    def add_codes(self, pool_id: str, codes: list[str]) -> int:
        """One conditional put per new code (the code's key makes it unique across pools), then its
        AVAIL entry; the pool counts what was added."""
        added = []
        for code in codes:
            pk, sk = keys.coupon_key(code)
            item = {"pk": pk, "sk": sk, "type": "coupon", "code": code, "pool_id": pool_id, "state": "available"}
            if self.table.put(item, if_absent=True):
                added.append(code)
        self.table.batch_put(
            {"pk": a[0], "sk": a[1], "type": "coupon_available", "code": code}
            for code in added
            for a in [keys.coupon_available_key(pool_id, code)]
        )
        if added:
            self.table.update(keys.COUPON_POOLS_PK, keys.coupon_pool_sk(pool_id), Update().add(imported=len(added)))
        return len(added)

    # ---------------------------------------------------------------- redemption and expiry
    def coupon(self, code: str) -> Coupon | None:
        item = self.table.get(*keys.coupon_key(code))
        return Coupon.model_validate(item) if item else None

    def redeem(self, redemption: Redemption, *, any_customer: bool, first_n: int | None) -> RedeemResult:
        pk, sk = keys.coupon_key(redemption.code)
        mark = Update().set(
            state="redeemed",
            redeemed_at=redemption.at,
            redeemed_by=redemption.customer_id,
            order_id=redemption.order_id,
            order_total=redemption.total,
            event_id=redemption.event_id,
        )
        mark.remove("gsi2pk", "gsi2sk")
        state, ends = mark.name("state"), mark.name("expires_at")
        condition = f"{state} = {mark.value('issued')} AND {ends} > {mark.value(redemption.at)}"
        if not any_customer:
            condition += f" AND {mark.name('customer_id')} = {mark.value(redemption.customer_id)}"
        count = Update().add(redeemed=1, revenue=redemption.total)
        pool_condition = "attribute_exists(pk)"
        if first_n is not None:
            pool_condition += f" AND {count.name('redeemed')} < {count.value(first_n)}"
        data = {
            "code": redemption.code,
            "pool_id": redemption.pool_id,
            "order_id": redemption.order_id,
            "total": redemption.total,
        }
        failed = transact(
            self.table,
            [
                update_action(pk, sk, mark, condition),
                update_action(keys.COUPON_POOLS_PK, keys.coupon_pool_sk(redemption.pool_id), count, pool_condition),
                put_if_absent(
                    history_item(redemption.customer_id, redemption.at, "coupon_redeemed", redemption.code, data)
                ),
            ],
        )
        if failed is None:
            return "redeemed"
        return "first_n_reached" if failed[1] == "ConditionalCheckFailed" else "changed"

    def record_refusal(self, redemption: Redemption, reason: str) -> None:
        data = {"code": redemption.code, "order_id": redemption.order_id, "reason": reason}
        item = history_item(redemption.customer_id, redemption.at, "coupon_refused", redemption.event_id, data)
        self.table.put(item, if_absent=True)

    def due_expiries(self, now: datetime, limit: int) -> Iterator[tuple[str, str]]:
        seen = 0
        for shard in range(keys.COUPON_EXPIRY_SHARDS):
            for item in self.table.query(
                keys.coupon_expiry_pk(shard), index="gsi2", sk_between=("0", iso(now) + "#~"), page_size=500
            ):
                _, pool_id, code = str(item["gsi2sk"]).rsplit("#", 2)
                yield code, pool_id
                seen += 1
                if seen >= limit:
                    return

    def expire(self, code: str, pool_id: str, at: str) -> bool:
        pk, sk = keys.coupon_key(code)
        mark = Update().set(state="expired", expired_at=at)
        mark.remove("gsi2pk", "gsi2sk")
        condition = f"{mark.name('state')} = {mark.value('issued')} AND {mark.name('expires_at')} <= {mark.value(at)}"
        failed = transact(
            self.table,
            [
                update_action(pk, sk, mark, condition),
                update_action(keys.COUPON_POOLS_PK, keys.coupon_pool_sk(pool_id), Update().add(expired=1)),
            ],
        )
        return failed is None

"""Referral codes, invitations and attributions in the single table (docs/rewards.md).

CUST#<id>       / REFERRAL           the customer's code and invite counts; gsi2 REFTOP / <successful>#<id>
REFCODE#<code>  / CODE               whose code it is, locked for review or not
REFCODE#<code>  / HOUR#<hour>        distinct invitees of that hour (a string set; TTL 2 days)
REFCODE#<code>  / LOG#<at>#<change>  lock and unlock, by whom and why
CUST#<invitee>  / REFERREDBY         the attribution: inviter, state, first order; gsi1 REFINV#<inviter>
REFERRALS       / STATS              invitations, and how many attributions are in each state
CUST#<id>       / EVT#...#referral_* history items: attributed (invitee), qualified (inviter)
CONFIG          / rewards            the programme's settings (ReferralConfig)
"""

from __future__ import annotations

import time
from typing import Any

from engage.adapters.dynamo import keys
from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.rewards_coupons import history_item, put_if_absent, transact, update_action
from engage.adapters.dynamo.table import Table, Update
from engage.adapters.dynamo.tagging_catalog import CatalogRepository, TagWriter
from engage.core.time import epoch, parse_iso
from engage.rewards.config import ReferralConfig
from engage.rewards.referrals import Attribution, ReferralCode
from engage.tagging.catalog import TagChange, TagLogEntry, define

CONFIG_AREA = "rewards"
HOUR_TTL_SECONDS = 2 * 86_400


class ReferralRepository:
    def __init__(self, table: Table, max_age: float = 60):
        self.table = table
        self.max_age = max_age  # the tagger reads the settings for every order: at most once a minute
        self._cached: tuple[float, ReferralConfig] | None = None

    # ---------------------------------------------------------------- settings
    def config(self) -> ReferralConfig:
        if self._cached and time.monotonic() - self._cached[0] < self.max_age:
            return self._cached[1]
        item = self.table.get(*keys.config_key(CONFIG_AREA), consistent=False) or {}
        config = ReferralConfig.model_validate(item.get("document") or {})
        self._cached = (time.monotonic(), config)
        return config

    def save_config(self, config: ReferralConfig) -> None:
        pk, sk = keys.config_key(CONFIG_AREA)
        self.table.put({"pk": pk, "sk": sk, "type": "config", "document": config.model_dump(mode="json")})
        self._cached = None

    # ---------------------------------------------------------------- codes
    def code_of(self, customer_id: str) -> ReferralCode | None:
        item = self.table.get(keys.customer_pk(customer_id), keys.REFERRAL_SK)
        return ReferralCode.model_validate(item) if item else None

    def owner(self, code: str) -> ReferralCode | None:
        item = self.table.get(*keys.referral_code_key(code))
        return ReferralCode.model_validate(item) if item else None

    def create_code(self, code: ReferralCode) -> bool:
        pk, sk = keys.referral_code_key(code.code)
        base = code.model_dump()
        return (
            transact(
                self.table,
                [
                    put_if_absent({"pk": pk, "sk": sk, "type": "referral_code", **base}),
                    put_if_absent(
                        {"pk": keys.customer_pk(code.customer_id), "sk": keys.REFERRAL_SK, "type": "referral", **base}
                    ),
                ],
            )
            is None
        )

    def note_invitation(self, code: str, hour: str, invitee_id: str) -> int:
        pk, sk = keys.referral_hour_key(code, hour)
        update = Update().set(expires_at=epoch(parse_iso(hour + ":00:00Z")) + HOUR_TTL_SECONDS)
        update.add_to_set(invitees=frozenset({invitee_id}))  # a string set: a replayed invitation adds nothing
        found = self.table.update(pk, sk, update, return_new=True)
        return len(found.get("invitees") or ()) if isinstance(found, dict) else 0

    def lock(self, code: str, *, at: str, reason: str) -> bool:
        pk, sk = keys.referral_code_key(code)
        update = Update().set(locked=True, locked_at=at, lock_reason=reason)
        locked = update.name("locked")
        written = self.table.update(
            pk,
            sk,
            update,
            condition=f"attribute_exists(pk) AND (attribute_not_exists({locked}) OR {locked} = {update.value(False)})",
        )
        if written:
            self._log(code, at, "lock", by="system", reason=reason)
        return bool(written)

    def unlock(self, code: str, *, by: str, at: str) -> ReferralCode | None:
        pk, sk = keys.referral_code_key(code)
        update = Update().set(locked=False, unlocked_at=at, unlocked_by=by)
        update.remove("lock_reason")
        found = self.table.update(pk, sk, update, condition="attribute_exists(pk)", return_new=True)
        if not isinstance(found, dict):
            return None
        self._log(code, at, "unlock", by=by, reason="reviewed")
        return ReferralCode.model_validate(found)

    def _log(self, code: str, at: str, change: str, *, by: str, reason: str) -> None:
        pk, sk = keys.referral_log_key(code, at, change)
        self.table.put(
            {
                "pk": pk,
                "sk": sk,
                "type": "referral_log",
                "code": code,
                "at": at,
                "change": change,
                "by": by,
                "reason": reason,
            }
        )

    def review_log(self, code: str) -> list[dict[str, Any]]:
        pk, prefix = keys.referral_log_key(code, "", "")
        return [
            {k: i.get(k) for k in ("at", "change", "by", "reason")}
            for i in self.table.query(pk, sk_prefix=prefix.rstrip("#"))
        ]

    # ---------------------------------------------------------------- attributions
    def attribution(self, invitee_id: str) -> Attribution | None:
        item = self.table.get(keys.customer_pk(invitee_id), keys.REFERRED_BY_SK)
        return Attribution.model_validate(item) if item else None

    def attribute(self, attribution: Attribution) -> bool:
        item = {
            "pk": keys.customer_pk(attribution.invitee_id),
            "sk": keys.REFERRED_BY_SK,
            "type": "referral_attribution",
            "gsi1pk": keys.invitees_index_pk(attribution.inviter_id),
            "gsi1sk": f"{attribution.invited_at}#{attribution.invitee_id}",
            **attribution.model_dump(exclude_none=True),
        }
        data = {"code": attribution.code, "inviter_id": attribution.inviter_id, "state": attribution.state}
        if attribution.reason:
            data["reason"] = attribution.reason
        actions = [
            put_if_absent(item),
            put_if_absent(
                history_item(
                    attribution.invitee_id, attribution.invited_at, "referral_attributed", attribution.code, data
                )
            ),
            self._stats(invitations=1, **{attribution.state: 1}),
        ]
        if attribution.state != "rejected":
            actions.append(
                update_action(keys.customer_pk(attribution.inviter_id), keys.REFERRAL_SK, Update().add(attributed=1))
            )
        return transact(self.table, actions) is None

    def invited_by(self, inviter_id: str) -> list[Attribution]:
        found = self.table.query(keys.invitees_index_pk(inviter_id), index="gsi1")
        return [Attribution.model_validate(i) for i in found]

    def set_state(self, invitee_id: str, *, state: str, expected: str, reason: str, at: str) -> bool:
        update = Update().set(state=state, reason=reason, settled_at=at)
        condition = f"{update.name('state')} = {update.value(expected)}"
        action = update_action(keys.customer_pk(invitee_id), keys.REFERRED_BY_SK, update, condition)
        return transact(self.table, [action, self._stats(**{state: 1, expected: -1})]) is None

    def qualify(
        self, attribution: Attribution, *, seen_successful: int, rewarded: bool, order_id: str, total: float, at: str
    ) -> bool:
        rank = seen_successful + 1
        mark = Update().set(
            state="qualified", order_id=order_id, order_total=total, qualified_at=at, rank=rank, rewarded=rewarded
        )
        counts = Update().add(successful=1, **({"rewarded": 1} if rewarded else {}))
        counts.set(gsi2pk=keys.TOP_INVITERS_PK, gsi2sk=f"{rank:06d}#{attribution.inviter_id}")
        data = {
            "invitee_id": attribution.invitee_id,
            "order_id": order_id,
            "total": total,
            "rank": rank,
            "rewarded": rewarded,
        }
        failed = transact(
            self.table,
            [
                update_action(
                    keys.customer_pk(attribution.invitee_id),
                    keys.REFERRED_BY_SK,
                    mark,
                    f"{mark.name('state')} = {mark.value('pending')}",
                ),
                update_action(
                    keys.customer_pk(attribution.inviter_id),
                    keys.REFERRAL_SK,
                    counts,
                    f"{counts.name('successful')} = {counts.value(seen_successful)}",
                ),
                self._stats(qualified=1, pending=-1, **({"rewarded": 1} if rewarded else {})),
                put_if_absent(
                    history_item(attribution.inviter_id, at, "referral_qualified", attribution.invitee_id, data)
                ),
            ],
        )
        return failed is None

    def mark_notified(self, invitee_id: str, *, at: str, outcome: dict[str, Any]) -> None:
        update = Update().set(notified_at=at, outcome=outcome)
        self.table.update(keys.customer_pk(invitee_id), keys.REFERRED_BY_SK, update)

    # ---------------------------------------------------------------- programme
    def _stats(self, **counts: int) -> dict[str, Any]:
        return update_action(keys.REFERRALS_PK, keys.REFERRAL_STATS_SK, Update().add(**counts))

    def programme(self) -> dict[str, Any]:
        item = self.table.get(keys.REFERRALS_PK, keys.REFERRAL_STATS_SK, consistent=False) or {}
        names = ("invitations", "pending", "held", "rejected", "below_threshold", "qualified", "rewarded")
        return {name: int(item.get(name) or 0) for name in names}

    def top_inviters(self, limit: int) -> list[dict[str, Any]]:
        found = self.table.query(keys.TOP_INVITERS_PK, index="gsi2", forward=False, limit=limit, page_size=limit)
        return [
            {
                "customer_id": i.get("customer_id"),
                "code": i.get("code"),
                "successful": int(i.get("successful") or 0),
                "rewarded": int(i.get("rewarded") or 0),
                "attributed": int(i.get("attributed") or 0),
            }
            for i in found
        ]


class ReferralTags:
    """`referral:*` tags through the tag contract's writer (membership + log entry, idempotent by event
    id), each defined in the catalog the first time it is used, so segments can name it."""

    def __init__(self, table: Table):
        self.writer = TagWriter(table)
        self.catalog = CatalogRepository(table)
        self._defined: set[str] = set()

    def add(self, customer_id: str, tag: str, *, reason: str, event_id: str, at: str) -> bool:
        if tag not in self._defined:
            definition = define(
                tag, kind="dynamic", description="Given by the referral programme.", by="referral", now=parse_iso(at)
            )
            entry = TagLogEntry(at=at, change="created", tag=tag, by="referral", reason="first use")
            self.catalog.create(definition, entry)
            self._defined.add(tag)
        change = TagChange(
            customer_id=customer_id, tag=tag, action="add", source="referral", reason=reason, event_id=event_id, at=at
        )
        return bool(self.writer.apply([change]))


class ReferralProfiles:
    """`referred_by` and `referrals` on customer profiles (segments read them), through the customers
    repository's conditional update: the first code wins, and a count only ever rises."""

    def __init__(self, customers: CustomerRepository):
        self.customers = customers

    def mark_referred(self, invitee_id: str, code: str) -> bool:
        update = Update().set(referred_by=code)
        return self.customers.apply(invitee_id, update, condition="attribute_not_exists(referred_by)")

    def set_referrals(self, inviter_id: str, count: int) -> bool:
        update = Update().set(referrals=count)
        update.values[":referrals"] = count  # the condition's operand travels with the update's values
        condition = "attribute_not_exists(referrals) OR referrals < :referrals"
        return self.customers.apply(inviter_id, update, condition=condition)

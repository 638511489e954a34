"""What the webhook writes besides identities: history items, statuses, tags, referrals, kept payloads.

CUST#<id>          / EVT#<time>#<kind>#<id>   history item, put once (`attribute_not_exists`)
CUST#<id>          / PROFILE                  profile touch: one conditional UpdateItem
CUST#<id>          / SEND#<send_key>          status: one conditional UpdateItem, forward only
CUST#<id>          / TAG#<name>               source-channel tag of a click-to-WhatsApp referral
WAMID#<wamid>      / SEND                     pointer written by the sender (read here)
REFERRAL#<code>    / INVITEE#<customer id>    a first message that carried a referral code
WEBHOOK#<REASON>   / <key or digest>          payloads kept for inspection, with `expires_at`
CONFIG             / <area>                   marketer-tunable settings (read, cached 60 s)
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from engage.adapters.dynamo import keys
from engage.adapters.dynamo.customers import PROFILE
from engage.adapters.dynamo.table import Table, Update, is_condition_failure
from engage.core.time import epoch, iso
from engage.delivery.send_status import FAILED, READ_RANK, Outcome, SendRef, StatusChange
from engage.inbound.history import HistoryEvent, ProfileTouch

MAX_KEPT_CHARS = 350_000  # stays under DynamoDB's 400 KB item limit (content is ASCII JSON)
MAX_KEY_CHARS = 512  # a natural key longer than this (or not ASCII) is shortened and made unique by digest
CONFIG_MAX_AGE = 60.0


def event_item(event: HistoryEvent) -> dict[str, Any]:
    return {
        "pk": keys.customer_pk(event.customer_id),
        "sk": keys.event_sk(event.occurred_at, event.kind, event.event_id),
        "type": "event",
        **event.model_dump(),
    }


def status_update(change: StatusChange) -> tuple[Update, str]:
    """The UpdateItem and condition that apply `change` only when it moves the send forward."""
    update = Update().set(**change.fields).set_if_absent(**change.timestamps, wamid=change.wamid)
    status, failed = update.name("status"), update.value(FAILED)
    condition = f"attribute_exists(pk) AND (attribute_not_exists({status}) OR {status} <> {failed})"
    rank = update.name("status_rank")
    limit = update.value(READ_RANK if change.rank is None else change.rank)  # failed: stale once read
    condition += f" AND (attribute_not_exists({rank}) OR {rank} < {limit})"
    return update, condition


def touch_update(touch: ProfileTouch) -> tuple[Update, str]:
    update = Update().set(**touch.set).set_if_absent(**touch.set_if_absent)
    conditions = ["attribute_exists(pk)"]
    for path, value in touch.not_after.items():
        names = ".".join(update.name(part) for part in path.split("."))
        conditions.append(f"(attribute_not_exists({names}) OR {names} <= {update.value(value)})")
    return update, " AND ".join(conditions)


class MessageRepository:
    def __init__(self, table: Table, *, config_max_age: float = CONFIG_MAX_AGE):
        self.table = table
        self.config_max_age = config_max_age
        self._config: dict[str, tuple[float, dict[str, Any] | None]] = {}

    # ---------------------------------------------------------------- history and profile
    def put_event(self, event: HistoryEvent) -> bool:
        return self.table.put(event_item(event), if_absent=True)

    def touch_profile(self, customer_id: str, touch: ProfileTouch) -> bool:
        if not touch:
            return True
        update, condition = touch_update(touch)
        return bool(self.table.update(keys.customer_pk(customer_id), PROFILE, update, condition=condition))

    # ---------------------------------------------------------------- sends and statuses
    def send_for_wamid(self, wamid: str) -> SendRef | None:
        item = self.table.get(keys.wamid_pointer_pk(wamid), keys.wamid_pointer_sk(), consistent=False)
        if not item or not item.get("customer_id") or not item.get("send_key"):
            return None
        return SendRef(str(item["customer_id"]), str(item["send_key"]))

    def get_send(self, ref: SendRef) -> dict[str, Any] | None:
        return self.table.get(keys.customer_pk(ref.customer_id), keys.send_sk(ref.send_key))

    def customer_sends(self, customer_id: str) -> list[dict[str, Any]]:
        return list(self.table.query(keys.customer_pk(customer_id), sk_prefix=keys.send_sk("")))

    def apply_status(self, ref: SendRef, change: StatusChange) -> Outcome:
        """One conditional UpdateItem; on a failed condition the old item tells stale from missing.

        Goes through the resource's client (plain Python values, like `Table.transact`) because
        `Table.update` does not ask for `ReturnValuesOnConditionCheckFailure`."""
        update, condition = status_update(change)
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key={"pk": keys.customer_pk(ref.customer_id), "sk": keys.send_sk(ref.send_key)},
                UpdateExpression=update.expression(),
                ConditionExpression=condition,
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return "stale" if error.response.get("Item") else "missing"
            raise
        return "applied"

    def mark_replied(self, ref: SendRef, *, at: str, opted_out: bool = False) -> bool:
        update = Update().set_if_absent(replied_at=at)
        if opted_out:
            update.set_if_absent(opted_out_at=at)
        return bool(
            self.table.update(
                keys.customer_pk(ref.customer_id), keys.send_sk(ref.send_key), update, condition="attribute_exists(pk)"
            )
        )

    # ---------------------------------------------------------------- tags and referrals
    def put_tag(self, customer_id: str, tag: str, *, since: str, source: str, reason: str, event_id: str) -> bool:
        """The membership item of the tag contract and its change log entry, as every tag writer
        writes them (an existing membership is left as it is)."""
        # Imported for a referral's source tag only: the tag models are no part of a status POST.
        from engage.adapters.dynamo.tagging_catalog import TagWriter
        from engage.tagging.catalog import TagChange

        change = TagChange(
            customer_id=customer_id, tag=tag, action="add", source=source, reason=reason, event_id=event_id, at=since
        )
        return bool(TagWriter(self.table).apply([change]))

    def put_referral_invite(self, code: str, invitee_id: str, *, at: str, wamid: str) -> bool:
        pk, sk = keys.referral_invite_key(code, invitee_id)
        item = {
            "pk": pk,
            "sk": sk,
            "type": "referral_invite",
            "code": code,
            "invitee_id": invitee_id,
            "invited_at": at,
            "wamid": wamid,
        }
        return self.table.put(item, if_absent=True)

    # ---------------------------------------------------------------- inspection and config
    def keep(self, reason: str, content: Any, *, now: datetime, key: str | None = None, days: int = 30) -> bool:
        """Stores `content` under WEBHOOK#<REASON> once (by `key`, else by content digest)."""
        text = content if isinstance(content, str) else json.dumps(content, sort_keys=True, default=str)
        text = text.encode("ascii", "backslashreplace").decode("ascii")
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        if key is not None and not (len(key) <= MAX_KEY_CHARS and key.isascii()):
            key = f"{key[:64].encode('ascii', 'backslashreplace').decode('ascii')}#{digest}"
        item = {
            "pk": keys.webhook_kept_pk(reason.encode("ascii", "backslashreplace").decode("ascii")[:100]),
            "sk": key or digest,
            "type": "webhook_kept",
            "reason": reason,
            "received_at": iso(now),
            "expires_at": epoch(now) + days * 86_400,
            "content": text[:MAX_KEPT_CHARS],
            "size": len(text),
            "truncated": len(text) > MAX_KEPT_CHARS,
        }
        return self.table.put(item, if_absent=True)

    def config(self, area: str) -> dict[str, Any] | None:
        cached = self._config.get(area)
        if cached and time.monotonic() - cached[0] < self.config_max_age:
            return cached[1]
        pk, sk = keys.config_key(area)
        item = self.table.get(pk, sk, consistent=False)
        document = _config_document(item)
        self._config[area] = (time.monotonic(), document)
        return document


def _config_document(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A config item holds its JSON document in `document` (a map or a JSON string) or inline."""
    if not item:
        return None
    document = item.get("document")
    if isinstance(document, str):
        return dict(json.loads(document))
    if isinstance(document, dict):
        return document
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "type")}

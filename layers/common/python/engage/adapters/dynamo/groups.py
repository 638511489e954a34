"""The groups capability's items (docs/data-model.md, "Groups"):

CIRCLE#<id> / CIRCLE                         gsi1 = CIRCLES / <id>
GROUP#<gid> / GROUP                          gsi1 = CIRCLE#<cid> / GROUP#<number>, gsi2 = GROUPS / <created>#<gid>
GROUPREF#<wa group id | request id> / REF    -> our group id
GROUP#<gid> / MEMBER#<customer>              gsi1 = GMEMBER#<customer> / GROUP#<gid>
GROUP#<gid> / NOTICE#<event id>              a webhook notice, claimed once (TTL)
GROUP#<gid> / DAY#<day>                      joins, leaves, active (counters)
GROUP#<gid> / ACT#<day>#<customer>           a member's activity that day, once (TTL)
GROUP#<gid> / POST#<pid>                     gsi2 = GPOSTS#DUE / <send_at>#<pid> while scheduled
GROUP#<gid> / HEALTH#<day>, ALERT#<key>
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr

from engage.adapters.dynamo import keys
from engage.adapters.dynamo.inbound_messages import _config_document
from engage.adapters.dynamo.table import Table, Update, from_dynamo, to_dynamo
from engage.adapters.dynamo.tagging_catalog import TagWriter
from engage.core.time import epoch, parse_iso
from engage.groups.models import Circle, Group, GroupsConfig, Member, Post
from engage.tagging.catalog import TagChange

KEEP_DAYS = 120  # notices and activity marks outlive any retry and the health window


def _clean(item: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (item or {}).items() if not k.startswith("gsi") and k not in ("pk", "sk", "type")}


class GroupsRepository:
    """Implements `engage.groups.ports.GroupsStore` and `OrderHistory` on the table."""

    def __init__(self, table: Table):
        self.table = table

    def config(self) -> GroupsConfig:
        pk, sk = keys.config_key("groups")
        document = _config_document(self.table.get(pk, sk, consistent=False))
        return GroupsConfig.model_validate(document or {})

    # ---------------------------------------------------------------- circles
    def put_circle(self, circle: Circle) -> bool:
        pk, sk = keys.circle_key(circle.id)
        item = {"pk": pk, "sk": sk, "type": "circle", "gsi1pk": keys.CIRCLES_INDEX_PK, "gsi1sk": circle.id}
        return self.table.put({**item, **circle.model_dump()}, if_absent=True)

    def get_circle(self, circle_id: str) -> Circle | None:
        item = self.table.get(*keys.circle_key(circle_id))
        return Circle.model_validate(_clean(item)) if item else None

    def circles(self) -> list[Circle]:
        return [Circle.model_validate(_clean(i)) for i in self.table.query(keys.CIRCLES_INDEX_PK, index="gsi1")]

    def next_group_number(self, circle_id: str) -> int:
        result = self.table.update(
            *keys.circle_key(circle_id), Update().add(groups=1), condition="attribute_exists(pk)", return_new=True
        )
        return int(result["groups"]) if isinstance(result, dict) else 1

    # ---------------------------------------------------------------- groups
    def _group_item(self, group: Group) -> dict[str, Any]:
        return {
            "pk": keys.group_pk(group.id),
            "sk": keys.GROUP_SK,
            "type": "group",
            "gsi1pk": keys.circle_groups_index_pk(group.circle_id),
            "gsi1sk": keys.group_number_sk(group.number),
            "gsi2pk": keys.GROUPS_INDEX_PK,
            "gsi2sk": f"{group.created_at}#{group.id}",
            **group.model_dump(),
        }

    def put_group(self, group: Group) -> None:
        self.table.put(self._group_item(group))

    def get_group(self, group_id: str) -> Group | None:
        item = self.table.get(keys.group_pk(group_id), keys.GROUP_SK)
        return Group.model_validate(_clean(item)) if item else None

    def groups(self, circle_id: str | None = None) -> list[Group]:
        if circle_id is None:
            items = self.table.query(keys.GROUPS_INDEX_PK, index="gsi2")
        else:
            items = self.table.query(keys.circle_groups_index_pk(circle_id), index="gsi1")
        return [Group.model_validate(_clean(i)) for i in items]

    def group_for_ref(self, ref: str) -> str | None:
        item = self.table.get(*keys.group_ref_key(ref[:512]), consistent=True)
        return str(item["group_id"]) if item else None

    def link_ref(self, ref: str, group_id: str) -> dict[str, Any] | None:
        pk, sk = keys.group_ref_key(ref[:512])
        update = Update().set(group_id=group_id, type="group_ref").remove("parked")
        old = (
            self.table.client.update_item(
                TableName=self.table.name,
                Key={"pk": pk, "sk": sk},
                UpdateExpression=update.expression(),
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=to_dynamo(update.values),
                ReturnValues="ALL_OLD",
            ).get("Attributes")
            or {}
        )
        parked = from_dynamo(old).get("parked") if old else None
        return json.loads(parked) if isinstance(parked, str) else None

    def park_notice(self, ref: str, raw: dict[str, Any]) -> bool:
        pk, sk = keys.group_ref_key(ref[:512])
        item = {"pk": pk, "sk": sk, "type": "group_ref", "parked": json.dumps(raw, default=str)[:100_000]}
        return self.table.put(item, condition="attribute_not_exists(group_id)")

    def update_group(self, group_id: str, **fields: Any) -> None:
        self.table.update(
            keys.group_pk(group_id), keys.GROUP_SK, Update().set(**fields), condition="attribute_exists(pk)"
        )

    def take_seat(self, group_id: str, limit: int) -> bool:
        update = Update().add(seats_taken=1)
        taken, most = update.name("seats_taken"), update.value(limit)
        condition = f"attribute_exists(pk) AND (attribute_not_exists({taken}) OR {taken} < {most})"
        return bool(self.table.update(keys.group_pk(group_id), keys.GROUP_SK, update, condition=condition))

    def free_seat(self, group_id: str) -> None:
        update = Update().add(seats_taken=-1)
        taken, zero = update.name("seats_taken"), update.value(0)
        self.table.update(keys.group_pk(group_id), keys.GROUP_SK, update, condition=f"{taken} > {zero}")

    # ---------------------------------------------------------------- members
    def get_member(self, group_id: str, customer_id: str) -> Member | None:
        item = self.table.get(keys.group_pk(group_id), keys.group_member_sk(customer_id))
        return Member.model_validate(_clean(item)) if item else None

    def put_member(self, member: Member) -> None:
        item = {
            "pk": keys.group_pk(member.group_id),
            "sk": keys.group_member_sk(member.customer_id),
            "type": "group_member",
            "gsi1pk": keys.member_groups_index_pk(member.customer_id),
            "gsi1sk": keys.group_pk(member.group_id),
            **member.model_dump(),
        }
        self.table.put(item)

    def members(self, group_id: str) -> list[Member]:
        items = self.table.query(keys.group_pk(group_id), sk_prefix=keys.group_member_sk(""), consistent=True)
        return [Member.model_validate(_clean(i)) for i in items]

    def memberships(self, customer_id: str) -> list[Member]:
        items = self.table.query(keys.member_groups_index_pk(customer_id), index="gsi1")
        return [Member.model_validate(_clean(i)) for i in items]

    # ---------------------------------------------------------------- once
    def _day_update(self, group_id: str, day: str, counter: str) -> dict[str, Any]:
        update = Update().add(**{counter: 1})
        return {"Update": update.request(keys.group_pk(group_id), keys.group_day_sk(day))}

    def _claim(self, item: dict[str, Any], day_update: dict[str, Any] | None) -> bool:
        if day_update is None:
            return self.table.put(item, if_absent=True)
        put = {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
        return self.table.transact([put, day_update])

    def _expires(self, day: str) -> int:
        return epoch(parse_iso(f"{day}T00:00:00Z") + timedelta(days=KEEP_DAYS))

    def record_notice(self, group_id: str, event_id: str, *, day: str, counter: str | None) -> bool:
        item = {
            "pk": keys.group_pk(group_id),
            "sk": keys.group_notice_sk(event_id[:700]),
            "type": "group_notice",
            "expires_at": self._expires(day),
        }
        return self._claim(item, self._day_update(group_id, day, counter) if counter else None)

    def mark_active(self, group_id: str, customer_id: str, *, day: str, at: str) -> bool:
        item = {
            "pk": keys.group_pk(group_id),
            "sk": keys.group_active_sk(day, customer_id),
            "type": "group_activity",
            "at": at,
            "expires_at": self._expires(day),
        }
        return self._claim(item, self._day_update(group_id, day, "active"))

    def day_stats(self, group_id: str, day: str) -> dict[str, int]:
        item = self.table.get(keys.group_pk(group_id), keys.group_day_sk(day), consistent=False) or {}
        return {k: int(item.get(k, 0)) for k in ("active", "joins", "leaves")}

    # ---------------------------------------------------------------- posts
    def _post_item(self, post: Post) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": keys.group_pk(post.group_id),
            "sk": keys.group_post_sk(post.id),
            "type": "group_post",
            **post.model_dump(),
        }
        if post.status == "scheduled":
            item.update(gsi2pk=keys.DUE_POSTS_INDEX_PK, gsi2sk=f"{post.send_at}#{post.id}")
        return item

    def put_post(self, post: Post) -> bool:
        return self.table.put(self._post_item(post), if_absent=True)

    def posts(self, group_id: str) -> list[Post]:
        items = self.table.query(keys.group_pk(group_id), sk_prefix=keys.group_post_sk(""))
        return [Post.model_validate(_clean(i)) for i in items]

    def due_posts(self, now: str, limit: int) -> list[Post]:
        items = self.table.query(keys.DUE_POSTS_INDEX_PK, index="gsi2", sk_between=("0", f"{now}#~"), limit=limit)
        return [Post.model_validate(_clean(i)) for i in items]

    def update_post(self, post: Post) -> None:
        self.table.put(self._post_item(post))

    def claim_post(self, group_id: str, post_id: str) -> bool:
        update = Update().set(status="sending")
        status, queued = update.name("status"), update.value("queued")
        return bool(
            self.table.update(
                keys.group_pk(group_id), keys.group_post_sk(post_id), update, condition=f"{status} = {queued}"
            )
        )

    def link_clicks(self, code: str) -> int:
        item = self.table.get(keys.link_pk(code), "LINK", consistent=False)
        return int((item or {}).get("clicks", 0))

    # ---------------------------------------------------------------- health
    def put_health(self, group_id: str, day: str, record: dict[str, Any]) -> None:
        self.table.put(
            {"pk": keys.group_pk(group_id), "sk": keys.group_health_sk(day), "type": "group_health", **record}
        )

    def health(self, group_id: str, days: int) -> list[dict[str, Any]]:
        items = self.table.query(keys.group_pk(group_id), sk_prefix=keys.group_health_sk(""), forward=False, limit=days)
        return [_clean(i) for i in items]

    def alert_once(self, group_id: str, key: str, record: dict[str, Any]) -> bool:
        item = {"pk": keys.group_pk(group_id), "sk": keys.group_alert_sk(key), "type": "group_alert", **record}
        return self.table.put(item, if_absent=True)

    # ---------------------------------------------------------------- order history
    def order_totals(self, customer_id: str, since: str) -> list[float]:
        items = self.table.query(
            keys.customer_pk(customer_id),
            sk_between=(f"EVT#{since}", "EVT#~"),
            filter=Attr("kind").eq("order_placed"),
        )
        totals = []
        for item in items:
            total = (item.get("data") or {}).get("total")
            if isinstance(total, int | float):
                totals.append(float(total))
        return totals


class GroupTags:
    """Implements `engage.groups.ports.Tagger`: `group:<circle>` memberships with their tag log entries,
    written like every tag writer writes them (engage.adapters.dynamo.tagging_catalog.TagWriter)."""

    def __init__(self, writer: TagWriter):
        self.writer = writer

    def _apply(
        self, action: Literal["add", "remove"], customer_id: str, tag: str, at: str, reason: str, event_id: str
    ) -> bool:
        change = TagChange(
            customer_id=customer_id, tag=tag, action=action, source="groups", reason=reason, event_id=event_id, at=at
        )
        return bool(self.writer.apply([change]))

    def add(self, customer_id: str, tag: str, *, at: str, reason: str, event_id: str) -> bool:
        return self._apply("add", customer_id, tag, at, reason, event_id)

    def remove(self, customer_id: str, tag: str, *, at: str, reason: str, event_id: str) -> bool:
        return self._apply("remove", customer_id, tag, at, reason, event_id)

"""A stand-in AudienceSource until the segments area's `engage/segments/snapshots.py` is merged.

It understands plain tag rules only: `{"tag": "vip"}`, `{"all": ["a", "b"]}`, `{"any": [...]}`,
optionally with `"none": [...]`, read through `MembershipRepository.members`. It writes the
agreed snapshot items `pk=CAMP#<campaign_id>, sk=AUD#<customer_id>` and pages them in key
order, so the real evaluator can replace it at merge without touching the dispatcher.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage.adapters.dynamo.keys import audience_pk, audience_sk
from engage.adapters.dynamo.memberships import MembershipRepository
from engage.adapters.dynamo.table import Table
from engage.errors import Invalid
from engage.timeutil import iso


def members_of(memberships: MembershipRepository, rule: Any) -> set[str]:
    if isinstance(rule, str):
        raise Invalid(
            f"segment {rule!r}: saved segments are evaluated by the segments area; give a tag rule",
            code="segment_unsupported",
        )
    if not isinstance(rule, dict) or not ({"tag", "all", "any"} & rule.keys()):
        raise Invalid('a tag rule is {"tag": t}, {"all": [...]} or {"any": [...]} (+ "none")', code="invalid_rule")
    if "tag" in rule:
        found = set(memberships.members(rule["tag"]))
    elif "all" in rule:
        sets = [set(memberships.members(t)) for t in rule["all"]]
        found = set.intersection(*sets) if sets else set()
    else:
        found = set().union(*(set(memberships.members(t)) for t in rule["any"]))
    for tag in rule.get("none", []):
        found -= set(memberships.members(tag))
    return found


class TagAudience:
    def __init__(self, table: Table, memberships: MembershipRepository):
        self.table = table
        self.memberships = memberships

    def snapshot_audience(self, campaign_id: str, segment_id_or_rule: Any, now: datetime) -> int:
        ids = sorted(members_of(self.memberships, segment_id_or_rule))
        self.write(campaign_id, ids, now)
        return len(ids)

    def write(
        self, campaign_id: str, customer_ids: list[str], now: datetime, reasons: dict[str, str] | None = None
    ) -> int:
        return self.table.batch_put(
            {
                "pk": audience_pk(campaign_id),
                "sk": audience_sk(cid),
                "type": "audience",
                "customer_id": cid,
                "at": iso(now),
                **({"reason": reasons[cid]} if reasons and cid in reasons else {}),
            }
            for cid in customer_ids
        )

    def audience_page(self, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        low = audience_sk(cursor) + "!" if cursor else audience_sk("")
        rows = list(self.table.query(audience_pk(campaign_id), sk_between=(low, audience_sk("~")), limit=limit + 1))
        ids = [r["customer_id"] for r in rows[:limit]]
        return ids, (ids[-1] if len(rows) > limit and ids else None)

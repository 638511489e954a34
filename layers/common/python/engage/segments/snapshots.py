"""Campaign audiences, frozen at launch: who was targeted, and why.

For the campaigns/dispatch area. Two calls (their ports are given: `SnapshotPorts`, built by the wiring):

    summary = snapshot_audience(campaign_id, segment_id="seg_...", now=now, ports=ports)   # or rule=
    ids, cursor = audience_page(campaign_id, None, 500, snapshots=ports.snapshots)
    while cursor: ids, cursor = audience_page(campaign_id, cursor, 500, snapshots=ports.snapshots)

`snapshot_audience` evaluates the segment (or the rule) at `now` and writes one member per customer,
`{customer_id, why: [matched tags]}` (batched writes), then the campaign's audience summary
`{campaign_id, count, segment_id, rule, text, taken_at, plan}`. The summary is written last and only
once: calling again for the same campaign returns the existing summary without evaluating anything,
so a retried launch targets exactly the audience of the first one. A run that died before its
summary is redone from scratch (members of the unfinished run that are no longer in the audience
are removed).

`audience_page` returns up to `limit` customer ids in id order after `cursor` (None to start), and
the cursor for the next page (None when this page is the last). Strongly consistent reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage.core.errors import Invalid, NotFound
from engage.core.time import iso
from engage.segments.evaluator import evaluate
from engage.segments.ports import SnapshotPorts, SnapshotStore
from engage.segments.rule_tree import Lifecycle, Rfm, Tag, TagPrefix, leaves, tag_of, to_json
from engage.segments.service import checked_rule, parse_rule
from engage.segments.text import to_text
from engage.tagging.ports import TagCatalogStore


def snapshot_audience(
    campaign_id: str,
    *,
    segment_id: str | None = None,
    rule: dict[str, Any] | str | None = None,
    now: datetime,
    ports: SnapshotPorts,
) -> dict[str, Any]:
    """Writes (once) and returns the campaign's audience summary. Give a saved `segment_id` or a `rule`."""
    if (segment_id is None) == (rule is None):
        raise Invalid("give either a segment_id or a rule", code="invalid_audience")
    snapshots = ports.snapshots
    existing = snapshots.summary(campaign_id)
    if existing is not None:
        return existing
    if segment_id is not None:
        segment = ports.segments.get(segment_id)
        if segment is None:
            raise NotFound(f"no segment {segment_id!r}", code="segment_not_found")
        node = parse_rule(segment["rule"])
        known = ports.tag_names.names()
    else:
        node, known = checked_rule(rule, ports.tag_names)
    audience = evaluate(node, ports.reader, known, now=now)
    stale = snapshots.member_ids(campaign_id) - set(audience.ids)
    if stale:
        snapshots.remove_members(campaign_id, stale)
    snapshots.write_members(campaign_id, {cid: audience.why.get(cid, []) for cid in audience.ids})
    summary = {
        "campaign_id": campaign_id,
        "count": audience.count,
        "segment_id": segment_id,
        "rule": to_json(node),
        "text": to_text(node),
        "taken_at": iso(now),
        "plan": {k: v for k, v in audience.plan.items() if k != "tags"},
    }
    if not snapshots.put_summary(campaign_id, summary):  # a concurrent launch won: use its summary
        return snapshots.summary(campaign_id) or summary
    return summary


def audience_page(
    campaign_id: str, cursor: str | None, limit: int = 500, *, snapshots: SnapshotStore
) -> tuple[list[str], str | None]:
    """(customer ids, next cursor) of the campaign's snapshot; next cursor None on the last page."""
    if limit < 1:
        raise Invalid("limit must be at least 1", code="invalid_limit")
    ids = snapshots.page(campaign_id, cursor, limit)
    return ids, (ids[-1] if len(ids) == limit else None)


def mark_tags_used(rule: dict[str, Any], now: datetime, *, catalog: TagCatalogStore) -> list[str]:
    """The catalog's tags a campaign's audience names (a prefix counts for every tag under it) are
    marked used now: tag health's "silent" means no campaign has used a tag for 30 days."""
    known = catalog.all()
    used: set[str] = set()
    for leaf in leaves(parse_rule(rule)):
        if isinstance(leaf, TagPrefix):
            used.update(name for name in known if name.startswith(leaf.prefix))
        elif isinstance(leaf, Tag | Lifecycle | Rfm):
            used.add(tag_of(leaf))
    names = sorted(used & set(known))
    catalog.touch(names, iso(now))
    return names


class SegmentAudience:
    """The dispatcher's audience source and the follow-up's writer, over these snapshots."""

    def __init__(self, ports: SnapshotPorts):
        self.ports = ports

    def snapshot_audience(
        self, campaign_id: str, segment_id_or_rule: str | dict[str, Any] | None, now: datetime
    ) -> int:
        if isinstance(segment_id_or_rule, str) and segment_id_or_rule.startswith("seg_"):
            summary = snapshot_audience(campaign_id, segment_id=segment_id_or_rule, now=now, ports=self.ports)
        else:
            summary = snapshot_audience(campaign_id, rule=segment_id_or_rule, now=now, ports=self.ports)
        if summary.get("rule"):
            mark_tags_used(summary["rule"], now, catalog=self.ports.catalog)
        return int(summary["count"])

    def has_segment(self, segment_id: str) -> bool:
        return self.ports.segments.get(segment_id) is not None

    def checked_rule(self, rule: dict[str, Any] | str) -> dict[str, Any]:
        """A campaign's inline rule, JSON or text, through the same parsing and validation as a preview."""
        node, _ = checked_rule(rule, self.ports.tag_names)
        return to_json(node)

    def audience_page(self, campaign_id: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        return audience_page(campaign_id, cursor, limit, snapshots=self.ports.snapshots)

    def write(
        self, campaign_id: str, customer_ids: list[str], now: datetime, reasons: dict[str, str] | None = None
    ) -> int:
        """An explicit audience (a follow-up run to those not reached), with each one's reason."""
        store = self.ports.snapshots
        reasons = reasons or {}
        store.write_members(campaign_id, {cid: [reasons[cid]] if cid in reasons else [] for cid in customer_ids})
        store.put_summary(
            campaign_id,
            {
                "campaign_id": campaign_id,
                "count": len(customer_ids),
                "segment_id": None,
                "rule": None,
                "text": "follow-up",
                "taken_at": iso(now),
                "plan": {},
            },
        )
        return len(customer_ids)

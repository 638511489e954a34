"""Campaign audience snapshots on moto: written once at launch, with why, paged for the dispatcher."""

from __future__ import annotations

import pytest

from engage.adapters.dynamo.customers import CustomerRepository
from engage.adapters.dynamo.tagging_memberships import membership_item
from engage.core.errors import Invalid, NotFound
from engage.core.time import parse_iso
from engage.customers.profiles import Customer
from engage.segments.snapshots import audience_page, snapshot_audience
from tests.helpers.segments import customer_id

NOW = parse_iso("2026-11-23T10:00:00Z")
SINCE = "2026-06-01T00:00:00Z"


@pytest.fixture
def base(aws):
    """250 customers: all hold interest:cosmetics, every 5th also product:lipstick."""
    from engage import wiring

    items = []
    for n in range(250):
        cid = customer_id(n)
        items.append(CustomerRepository.profile_item(Customer(id=cid, wa_id=f"4915{n:09d}", name=f"C{n}")))
        items.append(membership_item(cid, "interest:cosmetics", since=SINCE, source="import"))
        if n % 5 == 0:
            items.append(membership_item(cid, "product:lipstick", since=SINCE, source="import"))
    wiring.aws.table().batch_put(items)
    return wiring


def test_snapshot_of_a_saved_segment_is_written_once_and_paged(base):
    # Given a saved segment
    from engage.segments.service import SegmentIn, create_segment

    segment = create_segment(
        SegmentIn(name="No lipstick yet", rule="interest:cosmetics AND NOT product:lipstick"),
        store=base.segments.repository(),
        reader=base.segments.audience(),
        catalog=base.segments.tag_catalog(),
        caller="m@example.com",
        now=NOW,
    )
    # When the campaign launches
    summary = snapshot_audience("camp1", segment_id=segment["id"], now=NOW, ports=base.segments.snapshot_ports())
    # Then 200 customers are in the snapshot, each with why
    expected = [customer_id(n) for n in range(250) if n % 5]
    assert (summary["count"], summary["segment_id"]) == (200, segment["id"])
    assert summary["taken_at"] == "2026-11-23T10:00:00Z"
    item = base.aws.table().get("CAMP#camp1", f"AUD#{expected[0]}")
    assert item["why"] == ["interest:cosmetics"]
    # And the dispatcher pages through exactly them
    pages, cursor, seen = 0, None, []
    while True:
        ids, cursor = audience_page("camp1", cursor, 64, snapshots=base.segments.snapshots())
        seen.extend(ids)
        pages += 1
        if cursor is None:
            break
    assert seen == sorted(expected)
    assert pages == 4
    # When the launch is retried after the base changed, the first audience stands
    base.tagging.memberships().add(customer_id(0), "interest:garden", since=SINCE, source="import")
    base.tagging.memberships().remove(customer_id(1), "interest:cosmetics")
    assert (
        snapshot_audience("camp1", segment_id=segment["id"], now=NOW, ports=base.segments.snapshot_ports()) == summary
    )
    assert audience_page("camp1", None, 500, snapshots=base.segments.snapshots()) == (sorted(expected), None)


def test_snapshot_of_a_rule_and_refusals(base):
    summary = snapshot_audience(
        "camp2", rule={"tag": "product:lipstick"}, now=NOW, ports=base.segments.snapshot_ports()
    )
    assert summary["count"] == 50
    assert summary["text"] == "tag:product:lipstick"
    with pytest.raises(Invalid):
        snapshot_audience("camp3", rule="tag:interest:cosmetcs", now=NOW, ports=base.segments.snapshot_ports())
    with pytest.raises(Invalid):
        snapshot_audience("camp3", now=NOW, ports=base.segments.snapshot_ports())
    with pytest.raises(NotFound):
        snapshot_audience("camp3", segment_id="seg_missing", now=NOW, ports=base.segments.snapshot_ports())
    assert audience_page("camp3", None, 10, snapshots=base.segments.snapshots()) == ([], None)


def test_an_unfinished_snapshot_is_redone_without_stale_members(base):
    # Given a launch that died after writing members but before its summary
    base.segments.snapshots().write_members("camp4", {customer_id(1): ["interest:cosmetics"], "c_stale": ["x"]})
    # When the launch is retried
    summary = snapshot_audience("camp4", rule="tag:product:lipstick", now=NOW, ports=base.segments.snapshot_ports())
    # Then only the new audience is there
    ids, _ = audience_page("camp4", None, 500, snapshots=base.segments.snapshots())
    assert ids == sorted(customer_id(n) for n in range(0, 250, 5))
    assert summary["count"] == len(ids)

"""Send items on moto: what one send writes, and a campaign's sends read through its audience."""

from __future__ import annotations

NOW_TEXT = "2026-11-23T10:00:00Z"


def repository():
    from engage import wiring
    from engage.adapters.dynamo.delivery_sends import SendRepository
    from engage.core.time import parse_iso

    return SendRepository(wiring.aws.table(), clock=lambda: parse_iso(NOW_TEXT))


def intent(customer_id: str, campaign_id: str = "cmp_1"):
    from engage.delivery.sends import SendItem

    return SendItem(
        customer_id=customer_id,
        send_key=campaign_id,
        campaign_id=campaign_id,
        state="intent",
        intent_at=NOW_TEXT,
        to="4915123456789",
    )


def test_a_sent_item_has_no_index_entry_and_no_pointer(aws):
    """Intent put and outcome update are the only writes of the item: no campaign index entry, no wamid pointer."""
    from engage import wiring

    repo = repository()
    assert repo.save(intent("c_1"))
    repo.mark_sent(intent("c_1").model_copy(update={"state": "sent", "sent_at": NOW_TEXT, "wamid": "wamid.A"}))
    raw = wiring.aws.table().get("CUST#c_1", "SEND#cmp_1")
    assert raw["state"] == "sent" and raw["wamid"] == "wamid.A" and raw["status"] == "accepted"
    assert not [k for k in raw if k.startswith("gsi")]
    assert wiring.aws.table().get("WAMID#wamid.A", "SEND") is None


def test_statuses_move_the_sent_item_forward_in_one_write_unit_each(aws):
    """The item stays small (one write unit a status) and in no index, so a status is one plain write."""
    from engage import wiring
    from engage.delivery.send_status import SendRef, StatusChange

    repo = repository()
    assert repo.save(intent("c_1"))
    repo.mark_sent(intent("c_1").model_copy(update={"state": "sent", "sent_at": NOW_TEXT, "wamid": "wamid.A"}))
    store = wiring.inbound.messages()
    ref = SendRef("c_1", "cmp_1")
    for name, at in (("sent", "2026-11-23T10:00:01Z"), ("delivered", "2026-11-23T10:00:02Z"), ("read", NOW_TEXT)):
        change = StatusChange(wamid="wamid.A", status=name, at=at, pricing_category="marketing", billable=True)
        assert store.apply_status(ref, change) == "applied"
    assert store.apply_status(ref, StatusChange(wamid="wamid.A", status="delivered", at=NOW_TEXT)) == "stale"
    raw = wiring.aws.table().get("CUST#c_1", "SEND#cmp_1")
    assert (raw["state"], raw["status"], raw["delivered_at"]) == ("sent", "read", "2026-11-23T10:00:02Z")
    size = sum(len(k) + len(str(v)) for k, v in raw.items())
    assert size < 1024 and not [k for k in raw if k.startswith("gsi")]


def test_a_campaigns_sends_are_read_through_its_audience_in_pages(aws):
    from engage import wiring
    from engage.adapters.dynamo.segments import SnapshotRepository

    members = [f"c_{i:03d}" for i in range(7)]
    SnapshotRepository(wiring.aws.table()).write_members("cmp_1", {c: [] for c in members})
    repo = repository()
    for customer_id in members[:5]:  # the last two are not dispatched yet: no send item
        assert repo.save(intent(customer_id))
    assert repo.save(intent("c_zzz", "cmp_other"))  # another campaign's send of someone else
    found = list(repo.of_campaign("cmp_1", page_size=2))
    assert [i.customer_id for i in found] == members[:5]
    assert {i.state for i in found} == {"intent"}

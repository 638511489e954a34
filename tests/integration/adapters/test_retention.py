"""Per-message items expire after the retention setting; what reports need does not."""

from __future__ import annotations

from datetime import timedelta

NOW_TEXT = "2026-11-23T10:00:00Z"


def test_send_items_expire_after_the_retention_and_no_wamid_pointer_is_written(aws):
    from engage import wiring
    from engage.adapters.dynamo.delivery_sends import SendRepository
    from engage.core.time import epoch, parse_iso
    from engage.delivery.sends import SendItem

    now = parse_iso(NOW_TEXT)
    table = wiring.aws.table()
    repo = SendRepository(table, retention_days=90, clock=lambda: now)
    intent = SendItem(customer_id="c_1", send_key="cmp_1", campaign_id="cmp_1", state="intent", intent_at=NOW_TEXT)
    assert repo.save(intent)
    repo.mark_sent(intent.model_copy(update={"state": "sent", "sent_at": NOW_TEXT, "wamid": "wamid.X1"}))
    expected = epoch(now + timedelta(days=90))
    assert table.get("CUST#c_1", "SEND#cmp_1")["expires_at"] == expected
    assert table.get("CUST#c_1", "SEND#cmp_1")["wamid"] == "wamid.X1"
    assert table.get("WAMID#wamid.X1", "SEND") is None  # replies find the send among the customer's


def test_audience_members_expire_and_the_summary_stays(aws):
    from engage import wiring
    from engage.adapters.dynamo.segments import SnapshotRepository

    table = wiring.aws.table()
    snapshots = SnapshotRepository(table, retention_days=60)
    snapshots.write_members("cmp_1", {"c_1": ["tag:vip"]})
    snapshots.put_summary("cmp_1", {"size": 1})
    member = next(iter(table.query("CAMP#cmp_1", sk_prefix="AUD#")))
    assert member["expires_at"] > 0
    assert "expires_at" not in table.get("CAMP#cmp_1", "AUDIENCE")


def test_retention_setting_defaults_and_floor():
    import pytest
    from pydantic import ValidationError

    from engage.core.settings import RetentionSettings

    assert RetentionSettings.from_env({}).days == 180
    assert RetentionSettings.from_env({"ENGAGE_RETENTION_DAYS": "400"}).days == 400
    with pytest.raises(ValidationError):
        RetentionSettings.from_env({"ENGAGE_RETENTION_DAYS": "7"})  # shorter than the caps' look-back

"""The quarterly audit inside the nightly pass: sleeping tag holders go to historical stock."""

from __future__ import annotations

from engage.core.time import parse_iso
from tests.helpers.queues import run_schedule

NOW = "2026-10-01T02:00:00Z"  # the 1st of a quarter month: audit night


def test_sleeping_vips_move_to_historical_stock_on_the_quarterly_audit(aws, lambda_context):
    from engage import wiring
    from engage.customers.profiles import Customer

    sleeping = Customer(id=f"c_{1:032x}", wa_id="4915100000001", first_seen_at="2025-01-01T00:00:00Z",
                        last_interaction_at="2026-03-01T00:00:00Z")  # fmt: skip
    awake = Customer(id=f"c_{2:032x}", wa_id="4915100000002", first_seen_at="2025-01-01T00:00:00Z",
                     last_interaction_at="2026-09-20T00:00:00Z")  # fmt: skip
    for customer in (sleeping, awake):
        wiring.customers.repository().create(customer)
        wiring.tagging.memberships().add(
            customer.id, "value:vip", since="2026-01-01T00:00:00Z", source="rule:bh-value-vip"
        )

    summary = run_schedule("lifecycle-pass", NOW, lambda_context)

    assert summary["audit"] is True

    def held(c):
        return {m["name"] for m in wiring.tagging.memberships().of_customer(c.id)}

    assert "historical-stock:awaiting-activation" in held(sleeping) and "value:vip" not in held(sleeping)
    assert "historical-stock:awaiting-activation" not in held(awake) and "value:vip" in held(awake)
    entries, _ = wiring.tagging.log().entries(
        since=parse_iso("2026-09-30T00:00:00Z"),
        until=parse_iso(NOW),
        customer_id=sleeping.id,
        tag="value:vip",
    )
    assert entries[0]["change"] == "removed" and "quarterly audit" in entries[0]["reason"]

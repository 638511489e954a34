"""The single-table adapter on moto: pagination, conditional writes, batches, identities, memberships."""

from __future__ import annotations

import threading

import pytest

from engage.core.time import parse_iso

NOW = parse_iso("2026-11-23T10:00:00Z")


@pytest.fixture
def table(aws):
    from engage import wiring

    return wiring.aws.table()


def test_query_returns_every_item_past_the_1mb_page(table):
    # Given 40 items of ~60 KB in one partition (2.4 MB: at least three 1 MB pages)
    blob = "x" * 60_000
    table.batch_put({"pk": "P#1", "sk": f"I#{i:03d}", "blob": blob} for i in range(40))
    # When the partition is queried
    items = list(table.query("P#1"))
    # Then nothing is silently truncated, in key order
    assert [i["sk"] for i in items] == [f"I#{i:03d}" for i in range(40)]
    assert table.count("P#1") == 40


def test_query_limit_stops_exactly_and_prefix_and_range_select(table):
    table.batch_put({"pk": "P#2", "sk": f"EVT#2026-11-{d:02d}T00:00:00Z"} for d in range(1, 21))
    table.put({"pk": "P#2", "sk": "PROFILE"})
    assert len(list(table.query("P#2", limit=7))) == 7
    assert len(list(table.query("P#2", sk_prefix="EVT#"))) == 20
    window = list(table.query("P#2", sk_between=("EVT#2026-11-05", "EVT#2026-11-10~")))
    assert [i["sk"][4:14] for i in window] == [f"2026-11-{d:02d}" for d in range(5, 11)]
    newest_first = list(table.query("P#2", sk_prefix="EVT#", forward=False, limit=1))
    assert newest_first[0]["sk"].startswith("EVT#2026-11-20")


def test_conditional_put_writes_once(table):
    assert table.put({"pk": "E#1", "sk": "X", "n": 1}, if_absent=True) is True
    assert table.put({"pk": "E#1", "sk": "X", "n": 2}, if_absent=True) is False
    assert table.get("E#1", "X")["n"] == 1


def test_batch_get_reads_more_than_100_keys_and_skips_missing(table):
    table.batch_put({"pk": f"B#{i}", "sk": "X", "i": i} for i in range(150))
    found = table.batch_get([(f"B#{i}", "X") for i in range(160)])
    assert sorted(item["i"] for item in found) == list(range(150))


def test_parallel_scan_segments_cover_the_table_once(table):
    table.batch_put({"pk": f"S#{i}", "sk": "X"} for i in range(300))
    seen = [item["pk"] for seg in range(4) for item in table.scan(segment=seg, total_segments=4)]
    assert sorted(seen) == sorted(f"S#{i}" for i in range(300))


def test_transaction_is_all_or_nothing(table):
    table.put({"pk": "T#1", "sk": "X"})
    ok = table.transact(
        [
            {"Put": {"Item": {"pk": "T#2", "sk": "X"}}},
            {"Put": {"Item": {"pk": "T#1", "sk": "X"}, "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )
    assert ok is False
    assert table.get("T#2", "X") is None


def test_new_customer_is_created_once_under_concurrent_webhooks(serialized_dynamodb):
    # Given eight webhooks racing for the same unknown phone number
    from engage import wiring
    from engage.customers.profiles import resolve_customer

    results = []

    def resolve():
        results.append(
            resolve_customer(wiring.customers.repository(), wa_id="4915123456789", user_id=None, now=NOW)[0].id
        )

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then they all meet in one customer
    assert len(set(results)) == 1
    assert sum(1 for _ in wiring.customers.repository().all()) == 1


def test_identities_meet_in_one_customer_and_empty_ids_never_match(aws):
    from engage import wiring
    from engage.customers.profiles import resolve_customer

    store = wiring.customers.repository()
    by_phone, created = resolve_customer(store, wa_id="4915123456789", user_id="", now=NOW)
    assert created and by_phone.user_id is None
    # A webhook with both ids attaches the user id to the phone's customer
    both, created = resolve_customer(store, wa_id="4915123456789", user_id="DE.100000000000001", now=NOW)
    assert not created and both.id == by_phone.id
    # A later username-only webhook (wa_id "") finds the same customer by user id
    username_only, created = resolve_customer(store, wa_id="", user_id="DE.100000000000001", now=NOW)
    assert not created and username_only.id == by_phone.id
    # Another username-only user with an empty wa_id is a different customer
    other, created = resolve_customer(store, wa_id="", user_id="DE.100000000000002", now=NOW)
    assert created and other.id != by_phone.id
    assert store.get(by_phone.id).user_id == "DE.100000000000001"


def test_changed_number_moves_the_phone_identity(aws):
    from engage import wiring
    from engage.customers.profiles import resolve_customer

    store = wiring.customers.repository()
    customer, _ = resolve_customer(store, wa_id="4915123456789", user_id=None, now=NOW)
    assert store.move_identity(customer.id, old={"wa_id": "4915123456789"}, new={"wa_id": "4915198765432"})
    assert store.find_id(wa_id="4915198765432") == customer.id
    assert store.find_id(wa_id="4915123456789") is None
    assert store.get(customer.id).wa_id == "4915198765432"


def test_memberships_are_read_from_both_sides_across_pages(aws):
    from engage import wiring
    from engage.customers.profiles import resolve_customer

    members = wiring.tagging.memberships()
    ids = []
    for i in range(30):
        customer, _ = resolve_customer(
            wiring.customers.repository(), wa_id=f"49151234567{i:02d}", user_id=None, now=NOW
        )
        ids.append(customer.id)
        assert members.add(customer.id, "interest:cosmetics", since="2026-11-23T10:00:00Z", source="import")
    assert members.add(ids[0], "interest:cosmetics", since="2026-11-24T10:00:00Z", source="import") is False
    assert sorted(members.members("interest:cosmetics")) == sorted(ids)
    assert members.count("interest:cosmetics") == 30
    assert [t["name"] for t in members.of_customer(ids[0])] == ["interest:cosmetics"]
    removed = members.remove(ids[0], "interest:cosmetics")
    assert removed is not None and removed["since"] == "2026-11-23T10:00:00Z"
    assert members.remove(ids[0], "interest:cosmetics") is None
    assert members.count("interest:cosmetics") == 29


def test_erasing_a_customer_removes_profile_identities_and_history(aws):
    from engage import wiring
    from engage.customers.profiles import resolve_customer

    store = wiring.customers.repository()
    customer, _ = resolve_customer(store, wa_id="4915123456789", user_id="DE.100000000000001", now=NOW)
    wiring.tagging.memberships().add(customer.id, "value:vip", since="2026-11-23T10:00:00Z", source="import")
    store.delete(customer)
    assert store.get(customer.id) is None
    assert store.find_id(wa_id="4915123456789") is None
    assert store.find_id(user_id="DE.100000000000001") is None
    assert wiring.tagging.memberships().count("value:vip") == 0

"""Reply attribution on in-memory fakes: context first, else the latest campaign send in the window."""

from __future__ import annotations

from engage.core.time import parse_iso
from engage.inbound.replies import ReplyConfig, attribute_reply, load_reply_config
from tests.fakes.inbound import World
from tests.helpers.streams import attribute_stream_record

CID = "c_0123456789abcdef0123456789abcdef"
NOW = parse_iso("2026-11-23T10:15:30Z")


def event(data: dict, occurred_at: str = "2026-11-23T10:00:00Z", customer_id: str = CID, kind: str = "message"):
    return {
        "pk": f"CUST#{customer_id}",
        "sk": f"EVT#{occurred_at}#{kind}#wamid.in",
        "type": "event",
        "kind": kind,
        "event_id": "wamid.in",
        "customer_id": customer_id,
        "occurred_at": occurred_at,
        "data": {"type": "text", **data},
    }


def world_with_sends() -> World:
    world = World()
    store = world.store
    store.add_send(CID, "camp_old", campaign_id="camp_old", sent_at="2026-11-19T09:00:00Z", wamid="wamid.old")
    store.add_send(CID, "camp_a", campaign_id="camp_a", sent_at="2026-11-21T09:00:00Z", wamid="wamid.a")
    store.add_send(CID, "camp_b", campaign_id="camp_b", sent_at="2026-11-22T09:00:00Z", wamid="wamid.b")
    store.add_send(CID, "tx:order:1", sent_at="2026-11-23T09:00:00Z", wamid="wamid.tx")
    store.add_send(CID, "camp_failed", campaign_id="camp_failed", sent_at="2026-11-23T08:00:00Z", status="failed")
    store.add_send(CID, "camp_later", campaign_id="camp_later", sent_at="2026-11-23T11:00:00Z")
    return world


def test_a_reply_quoting_our_send_is_attributed_to_that_send():
    world = world_with_sends()
    attribution = attribute_reply(world.store, event({"context_id": "wamid.a"}), NOW)
    assert attribution is not None
    assert (attribution.ref.send_key, attribution.campaign_id, attribution.how) == ("camp_a", "camp_a", "context")
    assert world.store.sends[attribution.ref]["replied_at"] == "2026-11-23T10:00:00Z"


def test_a_quoted_send_is_found_among_the_customers_sends_without_any_pointer():
    world = world_with_sends()
    assert world.store.pointers == {}
    attribution = attribute_reply(world.store, event({"context_id": "wamid.old"}), NOW)
    assert attribution is not None and (attribution.ref.send_key, attribution.how) == ("camp_old", "context")


def test_a_send_made_before_is_still_found_through_its_old_pointer():
    world = World()
    ref = world.store.add_send(CID, "camp_2025", campaign_id="camp_2025", sent_at="2026-11-01T09:00:00Z")
    world.store.add_pointer("wamid.2025", ref)
    attribution = attribute_reply(world.store, event({"context_id": "wamid.2025"}), NOW)
    assert attribution is not None and (attribution.ref.send_key, attribution.how) == ("camp_2025", "context")
    assert world.store.sends[ref]["replied_at"] == "2026-11-23T10:00:00Z"


def test_without_context_the_latest_campaign_send_in_the_window_is_credited():
    world = world_with_sends()
    attribution = attribute_reply(world.store, event({}), NOW)
    assert attribution is not None
    assert (attribution.ref.send_key, attribution.how) == ("camp_b", "window")


def test_failed_transactional_and_later_sends_are_not_credited_by_the_window():
    world = world_with_sends()
    attribution = attribute_reply(world.store, event({}), NOW)
    assert attribution is not None and attribution.ref.send_key not in ("camp_failed", "tx:order:1", "camp_later")


def test_nothing_is_credited_outside_the_attribution_window():
    world = World()
    world.store.add_send(CID, "camp_old", campaign_id="camp_old", sent_at="2026-11-19T09:00:00Z")
    assert attribute_reply(world.store, event({}), NOW) is None
    assert attribute_reply(world.store, event({}), NOW, config=ReplyConfig(attribution_window_hours=24 * 5))


def test_the_window_comes_from_the_stored_config():
    world = World(config={"replies": {"attribution_window_hours": 1}})
    assert load_reply_config(world.store).attribution_window_hours == 1
    assert load_reply_config(World(config={"replies": {"attribution_window_hours": "x"}}).store) == ReplyConfig()


def test_a_context_pointing_to_another_customers_send_falls_back_to_the_window():
    world = world_with_sends()
    world.store.add_send("c_" + "f" * 32, "camp_x", campaign_id="camp_x", sent_at="2026-11-23T09:00:00Z", wamid="w.x")
    attribution = attribute_reply(world.store, event({"context_id": "w.x"}), NOW)
    assert attribution is not None and attribution.ref.send_key == "camp_b"


def test_replied_at_is_only_set_once():
    world = world_with_sends()
    first = attribute_reply(world.store, event({"context_id": "wamid.a"}), NOW)
    attribute_reply(world.store, event({"context_id": "wamid.a"}, occurred_at="2026-11-23T10:05:00Z"), NOW)
    assert first is not None and world.store.sends[first.ref]["replied_at"] == "2026-11-23T10:00:00Z"


def test_an_opt_out_reply_also_marks_the_send_opted_out():
    world = world_with_sends()
    attribution = attribute_reply(world.store, event({"consent_action": "opt_out"}), NOW)
    assert attribution is not None and world.store.sends[attribution.ref]["opted_out_at"] == "2026-11-23T10:00:00Z"


def test_system_messages_removed_reactions_and_other_kinds_are_not_replies():
    world = world_with_sends()
    assert attribute_reply(world.store, event({"type": "system"}), NOW) is None
    assert attribute_reply(world.store, event({"type": "reaction", "reacted_to": "wamid.a"}), NOW) is None
    assert attribute_reply(world.store, event({}, kind="order_placed"), NOW) is None
    assert attribute_reply(world.store, event({"type": "reaction", "emoji": "x"}), NOW) is not None


def test_a_stream_insert_record_is_attributed_and_other_records_are_ignored():
    world = world_with_sends()
    image = {
        "pk": {"S": f"CUST#{CID}"},
        "sk": {"S": "EVT#2026-11-23T10:00:00Z#message#wamid.in"},
        "kind": {"S": "message"},
        "customer_id": {"S": CID},
        "occurred_at": {"S": "2026-11-23T10:00:00Z"},
        "data": {"M": {"type": {"S": "text"}, "context_id": {"S": "wamid.b"}, "n": {"N": "2"}, "x": {"NULL": True}}},
    }
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": image}}
    attribution = attribute_stream_record(world.store, record, NOW)
    assert attribution is not None and attribution.ref.send_key == "camp_b" and attribution.how == "context"
    assert attribute_stream_record(world.store, {**record, "eventName": "MODIFY"}, NOW) is None
    profile = {"eventName": "INSERT", "dynamodb": {"NewImage": {**image, "sk": {"S": "PROFILE"}}}}
    assert attribute_stream_record(world.store, profile, NOW) is None

"""The inbound domain on in-memory fakes: identities, storage once, profile, consent, statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.core.errors import StorageError
from engage.core.time import from_epoch, iso
from engage.customers.profiles import Consent, Customer
from engage.inbound.payloads import parse_notification
from engage.inbound.receive import Report, process_notification, receive
from tests.fakes.inbound import World
from tests.helpers.whatsapp import (
    ASHA,
    T0,
    contact,
    inbound,
    message,
    notification,
    preference,
    sample,
    status,
    statuses,
    text,
    wa_error,
)

NOW = from_epoch(T0 + 930)
AT = iso(from_epoch(T0))
CID = "c_0123456789abcdef0123456789abcdef"
SENT = "wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABEYEjA1QkYyNkNBTVBBSUdOMDAxAA=="


def run(world: World, body: dict, now=NOW) -> Report:
    return process_notification(parse_notification(body), now=now, ports=world.ports)


def known_asha(world: World, **fields) -> Customer:
    customer = Customer(id=CID, wa_id=ASHA["wa_id"], user_id=ASHA["user_id"], name="Asha", **fields)
    assert world.customers.create(customer)
    return customer


# ---------------------------------------------------------------- storage once
def test_first_message_creates_the_customer_and_stores_the_message():
    world = World()
    report = run(world, sample("inbound_text"))
    asha = world.customer(wa_id=ASHA["wa_id"])
    assert report.messages == 1
    assert (asha.user_id, asha.name, asha.country) == (ASHA["user_id"], "Asha", "DE")
    assert asha.first_seen_at == asha.last_inbound_at == asha.last_interaction_at == AT
    [event] = world.store.messages_of(asha.id)
    assert event.event_id == "wamid.HBgNNDkxNTEyMzQ1Njc4OQ==" and event.occurred_at == AT
    assert event.data["type"] == "text" and event.data["text"].startswith("Hi!")


def test_the_same_notification_twice_changes_nothing():
    world = World()
    run(world, sample("inbound_text"))
    writes = world.store.writes
    snapshot = world.customer(wa_id=ASHA["wa_id"]).model_dump()
    report = run(world, sample("inbound_text"))
    assert report.messages == 0 and report.duplicates == 1
    assert world.store.writes == writes  # the fake counts applied writes; the refused put is all it costs
    assert world.customer(wa_id=ASHA["wa_id"]).model_dump() == snapshot


def test_a_known_customer_costs_two_writes_per_message():
    world = World()
    known_asha(world)
    run(world, sample("inbound_text"))
    assert world.store.writes == 2


def test_several_messages_of_one_customer_share_one_profile_update():
    world = World()
    known_asha(world)
    body = inbound(text("one", wamid="w1", ts=T0), text("two", wamid="w2", ts=T0 + 5), text("three", wamid="w3"))
    report = run(world, body)
    assert report.messages == 3
    assert world.store.writes == 4  # three history items + one profile update
    assert world.customer(wa_id=ASHA["wa_id"]).last_inbound_at == iso(from_epoch(T0 + 5))


def test_an_older_message_never_moves_last_inbound_back():
    world = World()
    run(world, inbound(text("new", wamid="w2", ts=T0 + 60)))
    run(world, inbound(text("old", wamid="w1", ts=T0)))
    asha = world.customer(wa_id=ASHA["wa_id"])
    assert asha.last_inbound_at == iso(from_epoch(T0 + 60))
    assert len(world.store.messages_of(asha.id)) == 2


def test_a_batch_with_several_entries_customers_messages_and_statuses_is_stored_whole():
    world = World()
    asha = known_asha(world)
    world.store.add_send(asha.id, "camp_bf26", campaign_id="camp_bf26", status="accepted", status_rank=0, wamid=SENT)
    report = run(world, sample("batch"))
    assert (report.messages, report.statuses) == (4, 3)
    assert len(world.store.messages_of(asha.id)) == 2
    assert world.customer(wa_id="4915111122233").name == "Jonas"
    assert world.customer(user_id="US.1000000000000000002").wa_id is None
    assert world.store.sends[next(iter(world.store.sends))]["status"] == "read"


def test_an_empty_entry_list_is_accepted_and_stores_nothing():
    world = World()
    assert run(world, sample("empty_entry")) == Report()
    assert world.store.writes == 0


# ---------------------------------------------------------------- identities
def test_a_username_user_with_an_empty_wa_id_is_known_by_user_id_only():
    world = World()
    run(world, sample("inbound_text_username"))
    sheena = world.customer(user_id="US.1000000000000000002")
    assert sheena.wa_id is None and sheena.name == "Sheena" and sheena.country == "US"
    assert world.customers.find_id(wa_id="") is None


def test_a_message_with_only_a_phone_identity_still_finds_the_customer():
    world = World()
    asha = known_asha(world)
    run(world, inbound(text("hi", user_id=""), contacts=[contact(user_id="")]))
    assert len(world.store.messages_of(asha.id)) == 1


def test_user_id_only_then_both_ids_meet_in_one_customer():
    world = World()
    run(world, inbound(text("first", wamid="w1", wa_id=""), contacts=[contact(wa_id="")]))
    run(world, inbound(text("second", wamid="w2", ts=T0 + 1)))
    by_user = world.customer(user_id=ASHA["user_id"])
    assert world.customer(wa_id=ASHA["wa_id"]).id == by_user.id
    assert len(world.store.messages_of(by_user.id)) == 2


def test_an_imported_customer_gets_the_user_id_attached_on_the_first_message():
    world = World()
    imported = Customer(id=CID, wa_id=ASHA["wa_id"])
    world.customers.create(imported)
    run(world, sample("inbound_text"))
    assert world.customer(user_id=ASHA["user_id"]).id == CID


def test_user_changed_number_moves_the_phone_identity():
    world = World()
    asha = known_asha(world)
    run(world, sample("system_user_changed_number"))
    assert world.customers.find_id(wa_id="4915199999999") == asha.id
    assert world.customers.find_id(wa_id=ASHA["wa_id"]) is None
    assert world.customers.find_id(user_id="DE.1000000000000000077") == asha.id
    [event] = world.store.messages_of(asha.id)
    assert event.data["system_type"] == "user_changed_number"
    assert world.customer(user_id="DE.1000000000000000077").last_inbound_at is None  # not the customer writing


def test_user_changed_user_id_moves_the_user_id_found_in_the_body():
    world = World()
    asha = known_asha(world)
    run(world, sample("system_user_changed_user_id"))
    assert world.customers.find_id(user_id="DE.1000000000000000055") == asha.id
    assert world.customers.find_id(user_id=ASHA["user_id"]) is None
    assert world.customers.find_id(wa_id=ASHA["wa_id"]) == asha.id


def test_an_identity_change_of_an_unknown_user_creates_the_customer_with_the_new_ids():
    world = World()
    run(world, sample("system_user_changed_number"))
    customer = world.customer(wa_id="4915199999999")
    assert customer.user_id == "DE.1000000000000000077"


def test_an_identity_change_to_an_identity_owned_by_someone_else_is_kept_not_applied():
    world = World()
    asha = known_asha(world)
    world.customers.create(Customer(id="c_" + "f" * 32, wa_id="4915199999999"))
    run(world, sample("system_user_changed_number"))
    assert world.customers.find_id(wa_id=ASHA["wa_id"]) == asha.id
    assert "identity_conflict" in world.store.kept_reasons()


def test_a_message_without_any_sender_identity_is_kept_for_inspection():
    world = World()
    report = run(world, inbound(text("ghost", wa_id="", user_id=""), contacts=[]))
    assert report.messages == 0 and world.store.kept_reasons() == ["rejected"]


# ---------------------------------------------------------------- message types
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("inbound_interactive_button_reply", {"type": "interactive", "text": "Size 42", "payload": "size_42"}),
        ("inbound_interactive_list_reply", {"text": "Running", "payload": "cat_running"}),
        ("inbound_interactive_nfm_reply", {"interactive_type": "nfm_reply", "text": "Sent"}),
        ("inbound_button", {"type": "button", "text": "Shop now", "payload": "bf26:shop_now", "context_id": SENT}),
        ("inbound_image", {"type": "image", "text": "This one?", "media_id": "1003383421387256"}),
        ("inbound_video", {"type": "video", "mime_type": "video/mp4"}),
        ("inbound_audio", {"type": "audio", "voice": True}),
        ("inbound_document", {"filename": "invoice-1042.pdf", "text": "My invoice"}),
        ("inbound_sticker", {"type": "sticker", "mime_type": "image/webp"}),
        (
            "inbound_location",
            {
                "location": {
                    "latitude": 52.520008,
                    "longitude": 13.404954,
                    "name": "Alexanderplatz",
                    "address": "Alexanderplatz, 10178 Berlin",
                    "url": "https://maps.example/alex",
                }
            },
        ),
        ("inbound_contacts", {"contacts": [{"name": "Jonas Weber", "phones": ["4915198765432"]}]}),
        ("inbound_reaction", {"reacted_to": SENT, "emoji": "\u2764\ufe0f"}),
        ("inbound_order", {"catalog_id": "1504839483784", "text": "For my sister"}),
        ("inbound_reply", {"context_id": SENT, "text": "Yes please, send me the discount code"}),
        ("inbound_unsupported", {"type": "unsupported", "unsupported_type": "poll"}),
    ],
)
def test_every_message_type_is_stored_with_its_payload(name, expected):
    world = World()
    run(world, sample(name))
    [event] = world.store.messages_of(world.customer(wa_id=ASHA["wa_id"]).id)
    assert expected.items() <= event.data.items()


def test_an_order_message_keeps_its_items():
    world = World()
    run(world, sample("inbound_order"))
    [event] = world.store.messages_of(world.customer(wa_id=ASHA["wa_id"]).id)
    assert [i["product_retailer_id"] for i in event.data["items"]] == ["shoe-42-blue", "socks-3pack"]


def test_an_unknown_message_type_is_stored_with_its_raw_payload():
    world = World()
    report = run(world, sample("inbound_unknown_type"))
    [event] = world.store.messages_of(world.customer(wa_id=ASHA["wa_id"]).id)
    assert report.messages == 1
    assert event.data["type"] == "event_invite"
    assert event.data["raw"]["event_invite"]["name"] == "Store opening"


def test_unsupported_messages_keep_their_errors():
    world = World()
    run(world, sample("inbound_unsupported"))
    [event] = world.store.messages_of(world.customer(wa_id=ASHA["wa_id"]).id)
    assert event.data["errors"][0]["code"] == 131051


# ---------------------------------------------------------------- referrals
def test_a_click_to_whatsapp_ad_tags_the_source_channel_once():
    world = World()
    run(world, sample("inbound_referral"))
    asha = world.customer(wa_id=ASHA["wa_id"])
    tag = world.store.tags[(asha.id, "source:ctwa-ad")]
    assert tag["source"] == "webhook" and tag["since"] == AT and "120212345678900123" in tag["reason"]
    [event] = world.store.messages_of(asha.id)
    assert event.data["referral"]["source_type"] == "ad"
    run(world, sample("inbound_referral"))
    assert len(world.store.tags) == 1


def test_a_first_message_with_a_referral_code_records_the_invite():
    world = World()
    run(world, sample("inbound_referral_code"))
    jonas = world.customer(wa_id="4915111122233")
    assert world.store.invites[("ASHA2026", jonas.id)]["wamid"] == "wamid.refcode.001"
    assert world.customers.extra[jonas.id]["referred_by_code"] == "ASHA2026"
    [event] = world.store.messages_of(jonas.id)
    assert event.data["referral_code"] == "ASHA2026"


def test_a_referral_code_from_a_customer_who_wrote_before_records_nothing():
    world = World()
    known_asha(world, last_inbound_at="2026-11-01T10:00:00Z")
    run(world, inbound(text("ref ZZZZ99 for you")))
    assert world.store.invites == {}


# ---------------------------------------------------------------- consent
@pytest.mark.parametrize(("body", "language"), [("STOP", "en"), ("Stopp", "de"), ("Стоп", "ru"), ("Baja", "es")])
def test_stop_keywords_opt_out_at_once_and_queue_a_confirmation_in_that_language(body, language):
    world = World()
    known_asha(world, consent=Consent(marketing=True, updated_at="2026-01-01T00:00:00Z", source="import"))
    run(world, inbound(text(body, wamid="wamid.stop")))
    asha = world.customer(wa_id=ASHA["wa_id"])
    assert asha.consent.marketing is False and asha.consent.source == "keyword" and asha.consent.updated_at == AT
    [job] = world.queue.bodies
    assert job["send_key"] == "tx:consent:wamid.stop" and job["category"] == "utility"
    assert job["customer_id"] == asha.id and job["message"]["kind"] == "text"
    from engage.customers.consent import DEFAULT_CONFIRMATIONS

    assert job["message"]["text"] == DEFAULT_CONFIRMATIONS["opt_out"][language]
    assert world.store.writes == 2  # consent folded into the one profile update
    [event] = world.store.messages_of(asha.id)
    assert event.data["consent_action"] == "opt_out"


def test_start_opts_back_in():
    world = World()
    known_asha(world)
    run(world, sample("inbound_stop"))
    run(world, sample("inbound_start"))
    asha = world.customer(wa_id=ASHA["wa_id"])
    assert asha.consent.marketing is True
    assert [j["reason"] for j in world.queue.bodies] == ["consent:opt_out", "consent:opt_in"]


def test_a_late_start_older_than_a_stop_does_not_undo_the_stop():
    world = World()
    known_asha(world)
    run(world, inbound(text("STOP", wamid="w2", ts=T0 + 60)))
    run(world, inbound(text("START", wamid="w1", ts=T0)))
    assert world.customer(wa_id=ASHA["wa_id"]).consent.marketing is False


def test_the_template_opt_out_button_opts_out():
    world = World()
    known_asha(world, consent=Consent(marketing=True))
    run(world, sample("inbound_opt_out_button"))
    assert world.customer(wa_id=ASHA["wa_id"]).consent.marketing is False


def test_a_replayed_stop_queues_its_confirmation_again_under_the_same_send_key():
    world = World()
    run(world, sample("inbound_stop"))
    run(world, sample("inbound_stop"))  # a crash may have lost the first: the sender sends one per key
    assert len(world.queue.bodies) == 2 and len({b["send_key"] for b in world.queue.bodies}) == 1


def test_keywords_come_from_the_stored_config():
    world = World(config={"webhook": {"opt_out_keywords": {"sv": ["sluta"]}, "confirm_consent": False}})
    known_asha(world, consent=Consent(marketing=True))
    run(world, inbound(text("Sluta!")))
    assert world.customer(wa_id=ASHA["wa_id"]).consent.marketing is False
    assert world.queue.bodies == []


def test_a_broken_stored_config_falls_back_to_the_defaults():
    world = World(config={"webhook": {"service_window_hours": "soon"}})
    run(world, sample("inbound_stop"))
    assert world.customer(wa_id=ASHA["wa_id"]).consent.marketing is False


def test_user_preferences_stop_and_resume_change_marketing_consent():
    world = World()
    known_asha(world, consent=Consent(marketing=True), last_inbound_at=iso(NOW - timedelta(hours=1)))
    report = run(world, sample("user_preferences_stop"))
    asha = world.customer(wa_id=ASHA["wa_id"])
    assert report.preferences == 1
    assert asha.consent.marketing is False and asha.consent.source == "user_preferences"
    [event] = [e for e in world.store.events.values() if e.kind == "consent"]
    assert event.data["value"] == "stop"
    assert len(world.queue.bodies) == 1  # the service window is open
    run(world, sample("user_preferences_resume"))
    assert world.customer(wa_id=ASHA["wa_id"]).consent.marketing is True


def test_user_preferences_outside_the_service_window_get_no_confirmation():
    world = World()
    known_asha(world, last_inbound_at="2026-11-01T00:00:00Z")
    run(world, sample("user_preferences_stop"))
    assert world.queue.bodies == []


def test_a_replayed_user_preferences_notification_changes_nothing():
    world = World()
    run(world, preference("stop"))
    writes = world.store.writes
    report = run(world, preference("stop"))
    assert report.duplicates == 1 and world.store.writes == writes


# ---------------------------------------------------------------- statuses
def asha_with_send(world: World, **send):
    asha = known_asha(world, consent=Consent(marketing=True, updated_at="2026-01-01T00:00:00Z"))
    fields = {"campaign_id": "camp_bf26", "status": "accepted", "status_rank": 0, "wamid": SENT, **send}
    return world.store.add_send(asha.id, "camp_bf26", **fields)


def test_each_status_is_one_write_on_the_send_item():
    world = World()
    ref = asha_with_send(world)
    writes = world.store.writes
    for name in ("status_sent", "status_delivered", "status_read"):
        run(world, sample(name))
    send = world.store.sends[ref]
    assert world.store.writes == writes + 3
    assert send["status"] == "read" and send["status_rank"] == 3
    assert send["pricing_category"] == "marketing"


def test_statuses_out_of_order_never_move_backwards():
    world = World()
    ref = asha_with_send(world)
    run(world, sample("status_read"))
    report = run(world, sample("status_delivered"))
    run(world, sample("status_sent"))
    send = world.store.sends[ref]
    assert report.stale_statuses == 1
    assert send["status"] == "read"
    assert send["delivered_at"] == send["read_at"] == iso(from_epoch(T0 - 300))


def test_a_duplicate_status_writes_nothing():
    world = World()
    asha_with_send(world)
    run(world, sample("status_delivered"))
    writes = world.store.writes
    assert run(world, sample("status_delivered")).stale_statuses == 1
    assert world.store.writes == writes


def test_failed_is_terminal_and_keeps_its_error():
    world = World()
    ref = asha_with_send(world)
    run(world, sample("status_failed"))
    run(world, sample("status_read"))
    send = world.store.sends[ref]
    assert (send["status"], send["error_code"], send["error_title"]) == ("failed", 131026, "Message undeliverable")


def test_error_131026_marks_the_number_undeliverable():
    world = World()
    asha_with_send(world)
    run(world, sample("status_failed"))
    assert world.customer(wa_id=ASHA["wa_id"]).undeliverable is True


def test_an_inbound_message_after_131026_makes_the_number_deliverable_again():
    world = World()
    asha_with_send(world)
    run(world, sample("status_failed"))
    run(world, sample("inbound_text"))
    assert world.customer(wa_id=ASHA["wa_id"]).undeliverable is False


def test_error_131050_records_a_marketing_opt_out():
    world = World()
    asha_with_send(world)
    run(world, sample("status_failed_stopped_marketing"))
    asha = world.customer(wa_id=ASHA["wa_id"])
    assert asha.consent.marketing is False and asha.consent.source == "whatsapp:131050"


def test_a_status_without_callback_data_is_matched_through_the_wamid_pointer():
    """A send made before callback data existed: its pointer is still read."""
    world = World()
    ref = asha_with_send(world, pointer=True)
    report = run(world, sample("status_without_callback"))
    assert report.statuses == 1 and world.store.sends[ref]["status"] == "delivered"


def test_an_unmatched_status_is_kept_for_inspection_once():
    world = World()
    report = run(world, statuses(status("wamid.unknown", "delivered")))
    run(world, statuses(status("wamid.unknown", "delivered")))
    assert report.unmatched_statuses == 1
    assert world.store.kept_reasons() == ["unmatched_status"]


def test_an_unmatched_131050_still_opts_out_a_known_recipient():
    world = World()
    known_asha(world, consent=Consent(marketing=True))
    run(world, statuses(status("wamid.x", "failed", errors=[wa_error(131050, "stopped")])))
    assert world.customer(wa_id=ASHA["wa_id"]).consent.marketing is False


def test_an_unknown_status_name_is_kept_not_applied():
    world = World()
    ref = asha_with_send(world)
    run(world, statuses(status(SENT, "deleted", callback=f"{CID}|camp_bf26")))
    assert world.store.sends[ref]["status"] == "accepted"
    assert world.store.kept_reasons() == ["unknown_status"]


# ---------------------------------------------------------------- what is kept
def test_value_level_errors_unknown_fields_and_rejected_parts_are_kept():
    world = World()
    run(world, sample("value_errors"))
    run(world, sample("template_status_update"))
    run(world, inbound(text("ok", wamid="w1"), {"type": "text"}))
    assert world.store.kept_reasons() == ["errors", "field#message_template_status_update", "rejected"]


def test_a_notification_for_another_object_is_kept():
    world = World()
    run(world, {"object": "page", "entry": []})
    assert world.store.kept_reasons() == ["object"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"", "\u00ff".encode("latin-1")])
def test_a_signed_body_that_is_not_a_json_object_is_kept_whole(body):
    world = World()
    report = receive(body, now=NOW, ports=world.ports)
    assert report.kept == 1 and world.store.kept_reasons() == ["unparsed"]


def test_receive_parses_and_processes_a_json_body():
    import json

    world = World()
    body = notification({"contacts": [contact()], "messages": [message("text", {"body": "x"})]})
    report = receive(json.dumps(body).encode(), now=NOW, ports=world.ports)
    assert report.messages == 1


# ---------------------------------------------------------------- parallel writes
def test_a_thread_pool_stores_the_same_as_sequential_processing():
    from concurrent.futures import ThreadPoolExecutor

    results = []
    for pool in (None, ThreadPoolExecutor(max_workers=4)):
        world = World()
        world.ports.pool = pool
        ref = asha_with_send(world)
        report = run(world, sample("batch"))
        stored = (len(world.store.events), len(world.customers.profiles))
        results.append((report, world.store.sends[ref]["status"], stored))
    assert results[0] == results[1]
    assert results[0][0].statuses == 3  # one send's statuses stay in order inside one task


def test_a_storage_failure_in_any_parallel_task_fails_the_notification():
    from concurrent.futures import ThreadPoolExecutor

    world = World()
    world.ports.pool = ThreadPoolExecutor(max_workers=4)

    def broken(event):
        raise StorageError("DynamoDB is down")

    world.store.put_event = broken  # type: ignore[method-assign]
    with pytest.raises(StorageError, match="DynamoDB is down"):
        run(world, sample("batch"))


# ---------------------------------------------------------------- what a message writes to customers
def test_statuses_with_their_contacts_write_only_the_send_item():
    """The fake WhatsApp and Meta put `contacts[]` on statuses too: nothing about the customer is written."""
    world = World()
    asha = known_asha(world)
    ref = world.store.add_send(asha.id, "camp_bf26", campaign_id="camp_bf26", status="accepted", status_rank=0)
    customer_writes = world.customers.writes
    value = statuses(status(SENT, "delivered", callback=f"{asha.id}|camp_bf26"))
    value["entry"][0]["changes"][0]["value"]["contacts"] = [contact()]
    report = run(world, value)
    assert report.statuses == 1 and world.store.sends[ref]["status"] == "delivered"
    assert world.customers.writes == customer_writes and world.store.writes == 1


def test_a_reply_from_a_customer_known_by_both_ids_writes_no_identity():
    world = World()
    known_asha(world)
    customer_writes = world.customers.writes
    run(world, inbound(text("thanks", wamid="w.thanks")))
    assert world.customers.writes == customer_writes  # no create, no attach: nothing changed
    assert world.store.writes == 2  # the history item and the profile update


def test_a_user_id_first_seen_on_a_reply_is_attached_once():
    world = World()
    world.customers.create(Customer(id=CID, wa_id=ASHA["wa_id"], name="Asha"))
    customer_writes = world.customers.writes
    run(world, inbound(text("one", wamid="w.one", ts=T0)))
    run(world, inbound(text("two", wamid="w.two", ts=T0 + 5)))
    assert world.customer(wa_id=ASHA["wa_id"]).user_id == ASHA["user_id"]
    assert world.customers.writes == customer_writes + 1

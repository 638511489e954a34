"""The notification models: every sample parses, unknown things are kept, bad parts set aside."""

from __future__ import annotations

import pytest

from engage.inbound.payloads import parse_notification
from tests.helpers.whatsapp import SAMPLES, inbound, message, notification, sample, status, statuses, text

ALL_SAMPLES = sorted(p.stem for p in SAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_every_sample_notification_parses_without_rejections(name):
    parsed = parse_notification(sample(name))
    assert parsed.is_whatsapp
    assert parsed.all_rejected() == []


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("inbound_text", lambda m: m.text.body.startswith("Hi!")),
        ("inbound_interactive_button_reply", lambda m: m.interactive.button_reply.id == "size_42"),
        ("inbound_interactive_list_reply", lambda m: m.interactive.list_reply.description == "Shoes and apparel"),
        ("inbound_interactive_nfm_reply", lambda m: "flow_token" in m.interactive.nfm_reply.response_json),
        ("inbound_button", lambda m: m.button.payload == "bf26:shop_now" and m.context.id),
        ("inbound_image", lambda m: m.media.caption == "This one?" and m.media.url),
        ("inbound_video", lambda m: m.media.mime_type == "video/mp4"),
        ("inbound_audio", lambda m: m.media.voice is True),
        ("inbound_document", lambda m: m.media.filename == "invoice-1042.pdf"),
        ("inbound_sticker", lambda m: m.media.animated is False),
        ("inbound_location", lambda m: m.location.latitude == pytest.approx(52.520008)),
        ("inbound_contacts", lambda m: m.contacts[0].phones[0].wa_id == "4915198765432"),
        ("inbound_reaction", lambda m: m.reaction.emoji == "\u2764\ufe0f"),
        ("inbound_order", lambda m: m.order.product_items[1].quantity == 2),
        ("inbound_referral", lambda m: m.referral.source_type == "ad" and m.referral.ctwa_clid),
        ("inbound_unsupported", lambda m: m.unsupported.type == "poll" and m.errors[0].code == 131051),
        ("system_user_changed_number", lambda m: m.system.wa_id == "4915199999999"),
        ("system_user_changed_user_id", lambda m: m.system.user_id == "DE.1000000000000000055" and m.from_ == ""),
        ("inbound_text_username", lambda m: m.from_ == "" and m.from_user_id == "US.1000000000000000002"),
    ],
)
def test_each_message_type_is_modelled(name, check):
    message_ = parse_notification(sample(name)).changes()[0].value.messages[0]
    assert check(message_)


def test_unknown_message_type_and_unknown_fields_are_kept_in_raw():
    parsed = parse_notification(sample("inbound_unknown_type"))
    msg = parsed.changes()[0].value.messages[0]
    assert msg.type == "event_invite"
    assert msg.raw["event_invite"]["name"] == "Store opening"
    assert msg.raw["new_field_2027"] == {"x": 1}


def test_statuses_carry_pricing_conversation_callback_and_errors():
    value = parse_notification(sample("status_sent")).changes()[0].value
    sent = value.statuses[0]
    assert sent.pricing.category == "marketing" and sent.pricing.pricing_model == "PMP"
    assert sent.conversation.origin.type == "marketing"
    assert sent.biz_opaque_callback_data.startswith("c_")
    failed = parse_notification(sample("status_failed")).changes()[0].value.statuses[0]
    assert failed.errors[0].code == 131026 and failed.errors[0].details


def test_user_preferences_timestamp_as_a_number_is_accepted():
    pref = parse_notification(sample("user_preferences_stop")).changes()[0].value.user_preferences[0]
    assert pref.value == "stop" and pref.timestamp.isdigit()


def test_a_malformed_message_is_rejected_alone_and_the_rest_parses():
    body = inbound(text("fine", wamid="wamid.ok"), {"type": "text", "text": {"body": "no id"}}, message("text", "x"))
    value = parse_notification(body).changes()[0].value
    assert [m.id for m in value.messages] == ["wamid.ok"]
    rejected = parse_notification(body).all_rejected()
    assert [r.where for r in rejected] == ["messages[1]", "messages[2]"]
    assert rejected[0].raw == {"type": "text", "text": {"body": "no id"}}


def test_broken_levels_of_the_envelope_are_rejected_not_raised():
    body = {"object": "whatsapp_business_account", "entry": [5, {"id": "1", "changes": ["junk", {"field": "x"}]}]}
    parsed = parse_notification(body)
    assert [r.where for r in parsed.all_rejected()] == ["entry[0]", "changes[0]"]
    assert [c.field for c in parsed.changes()] == ["x"]
    assert parse_notification({"object": {"not": "a string"}}).all_rejected()[0].where == "notification"
    assert parse_notification([1, 2]).all_rejected()[0].where == "notification"


def test_statuses_with_unexpected_shapes_are_rejected_individually():
    body = statuses(status("wamid.a", "sent"), {"id": "wamid.b"}, {"status": "read"})
    parsed = parse_notification(body)
    assert [s.id for s in parsed.changes()[0].value.statuses] == ["wamid.a"]
    assert len(parsed.all_rejected()) == 2


def test_contact_lookup_prefers_user_id_then_wa_id_then_the_only_contact():
    value = parse_notification(notification({"contacts": [{"wa_id": "1", "user_id": "A.1"}, {"wa_id": "2"}]}))
    v = value.changes()[0].value
    assert v.contact_for("", "A.1").wa_id == "1"
    assert v.contact_for("2", "").wa_id == "2"
    assert v.contact_for("3", "") is None


def test_empty_entry_has_no_changes():
    assert parse_notification(sample("empty_entry")).changes() == []

"""Consent keywords: whole message, case-, accent- and punctuation-insensitive, multilingual."""

from __future__ import annotations

import pytest

from engage.customers.consent import normalise
from engage.inbound.config import InboundConfig
from engage.inbound.messages import consent_action
from engage.inbound.sender_payloads import Message
from tests.helpers.whatsapp import message, text


def action(raw: dict, config: InboundConfig | None = None):
    return consent_action(Message.model_validate(raw), config or InboundConfig())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", ("opt_out", "en")),
        ("stop!", ("opt_out", "en")),
        ("  Stop  ", ("opt_out", "en")),
        ("Unsubscribe", ("opt_out", "en")),
        ("Stopp", ("opt_out", "de")),
        ("Abmelden.", ("opt_out", "de")),
        ("Baja", ("opt_out", "es")),
        ("Arrêter", ("opt_out", "fr")),
        ("ARRETER", ("opt_out", "fr")),
        ("Стоп", ("opt_out", "ru")),
        ("отписаться", ("opt_out", "ru")),
        ("START", ("opt_in", "en")),
        ("start", ("opt_in", "en")),
        ("Anmelden", ("opt_in", "de")),
        ("Старт", ("opt_in", "ru")),
    ],
)
def test_stop_start_and_their_translations_are_recognised(body, expected):
    assert action(text(body)) == expected


@pytest.mark.parametrize("body", ["please stop sending my order to the old address", "stopwatch", "Hi", "", "start?!x"])
def test_ordinary_messages_are_not_consent_keywords(body):
    assert action(text(body)) is None


def test_template_opt_out_button_payload_opts_out():
    assert action(message("button", {"payload": "STOP_PROMOTIONS", "text": "Stop promotions"})) == ("opt_out", "en")
    assert action(message("button", {"payload": "bf26:shop_now", "text": "Shop now"})) is None


def test_interactive_reply_id_or_title_can_be_a_consent_signal():
    reply = {"id": "STOP_PROMOTIONS", "title": "No thanks"}
    raw = message("interactive", {"type": "button_reply", "button_reply": reply})
    assert action(raw) == ("opt_out", "en")
    raw = message("interactive", {"type": "list_reply", "list_reply": {"id": "x", "title": "Stop"}})
    assert action(raw) == ("opt_out", "en")


def test_keywords_and_payloads_are_configurable():
    config = InboundConfig(opt_out_keywords={"sv": ["sluta"]}, opt_in_keywords={}, opt_out_payloads=["NO_ADS"])
    assert action(text("Sluta"), config) == ("opt_out", "sv")
    assert action(text("STOP"), config) is None
    assert action(message("button", {"payload": "NO_ADS", "text": "x"}), config) == ("opt_out", "en")


def test_normalise_drops_case_accents_and_punctuation():
    assert normalise("  ¡Cancelar   Suscripción! ") == "cancelar suscripcion"

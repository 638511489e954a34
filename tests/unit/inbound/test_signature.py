"""X-Hub-Signature-256 and the verification handshake."""

from __future__ import annotations

import base64

from engage.inbound import signature

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_signature_is_sha256_hmac_of_the_raw_body_in_lowercase_hex():
    value = signature.sign(BODY, "secret")
    assert value.startswith("sha256=") and len(value) == 7 + 64 and value == value.lower()
    assert signature.verify(BODY, value, ["secret"])


def test_any_configured_secret_verifies_during_rotation():
    value = signature.sign(BODY, "old-secret")
    assert signature.verify(BODY, value, ["new-secret", "old-secret"])
    assert not signature.verify(BODY, value, ["new-secret"])


def test_missing_malformed_or_wrong_signatures_are_refused():
    good = signature.sign(BODY, "secret")
    assert not signature.verify(BODY, None, ["secret"])
    assert not signature.verify(BODY, "", ["secret"])
    assert not signature.verify(BODY, good.removeprefix("sha256="), ["secret"])
    assert not signature.verify(BODY + b" ", good, ["secret"])
    assert not signature.verify(BODY, good, [])
    assert not signature.verify(BODY, good, [""])


def test_uppercase_hex_in_the_header_still_verifies():
    good = signature.sign(BODY, "secret")
    assert signature.verify(BODY, "sha256=" + good.removeprefix("sha256=").upper(), ["secret"])


def test_escaped_unicode_bodies_are_verified_as_received_not_reserialised():
    body = b'{"text":{"body":"Gr\\u00fc\\u00dfe"}}'
    assert signature.verify(body, signature.sign(body, "s"), ["s"])
    assert not signature.verify('{"text":{"body":"Grüße"}}'.encode(), signature.sign(body, "s"), ["s"])


def test_base64_bodies_are_decoded_before_verification():
    encoded = base64.b64encode(BODY).decode()
    assert signature.raw_body(encoded, True) == BODY
    assert signature.raw_body(BODY.decode(), False) == BODY
    assert signature.raw_body(None, False) == b""
    assert signature.raw_body("%%%not-base64", True) == b""


def test_the_header_is_found_whatever_its_case():
    assert signature.header_value({"X-Hub-Signature-256": "sha256=ab"}) == "sha256=ab"
    assert signature.header_value({"x-hub-signature-256": "sha256=cd"}) == "sha256=cd"
    assert signature.header_value(None) is None


def test_handshake_echoes_the_challenge_only_for_subscribe_with_the_right_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "12345"}
    assert signature.challenge(params, "tok") == "12345"
    assert signature.challenge({**params, "hub.verify_token": "nope"}, "tok") is None
    assert signature.challenge({**params, "hub.mode": "unsubscribe"}, "tok") is None
    assert signature.challenge(params, "") is None
    assert signature.challenge(None, "tok") is None

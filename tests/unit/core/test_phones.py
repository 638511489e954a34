"""Reading phone numbers: international forms, national forms in the default country, nothing guessed."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.core.phones import PhoneRefused, to_wa_id

WA_ID = re.compile(r"^[1-9]\d{6,14}$")


@pytest.mark.parametrize(
    "raw", ["+49 151 2345 6789", "+49 (151) 2345-6789", "4915123456789", "0049 151 23456789", " +4915123456789 "]
)
def test_international_forms_are_one_wa_id(raw):
    assert to_wa_id(raw) == "4915123456789"
    assert to_wa_id(raw, "FR") == "4915123456789"  # a country code wins over the default


def test_a_national_number_is_read_in_the_default_country_or_refused():
    assert to_wa_id("015123456789", "DE") == "4915123456789"
    assert to_wa_id("0151 2345 6789", "DE") == "4915123456789"
    with pytest.raises(PhoneRefused) as refused:
        to_wa_id("015123456789")  # not +1 512 345 6789, a stranger in Austin
    assert refused.value.code == "phone_needs_country" and refused.value.status == 422


@given(
    subscriber=st.integers(min_value=10_000_000, max_value=99_999_999), prefix=st.sampled_from(["151", "160", "176"])
)
def test_german_mobiles_in_national_form(subscriber, prefix):
    national = f"0{prefix}{subscriber}"
    assert to_wa_id(national, "DE") == f"49{prefix}{subscriber}"
    with pytest.raises(PhoneRefused):
        to_wa_id(national)


@given(
    raw=st.text(max_size=40) | st.from_regex(r"[+0]?[0-9 ()\-.]{1,25}", fullmatch=True),
    country=st.sampled_from([None, "DE", "US", "IN"]),
)
def test_any_text_is_a_valid_wa_id_or_refused(raw, country):
    try:
        wa_id = to_wa_id(raw, country)
    except PhoneRefused as refused:
        assert refused.status == 422 and refused.code in ("invalid_phone", "phone_needs_country")
        return
    assert WA_ID.match(wa_id)
    assert phonenumbers.is_valid_number(phonenumbers.parse("+" + wa_id))

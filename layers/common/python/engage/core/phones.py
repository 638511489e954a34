"""Phone numbers: E.164 parsing, the wa_id form, and the country and time zone they imply."""

from __future__ import annotations

import phonenumbers

from engage.core import timezones
from engage.core.errors import Invalid


def to_wa_id(raw: str) -> str:
    """'+49 151 2345 6789' or '4915123456789' -> '4915123456789'. Raises Invalid."""
    text = raw.strip()
    if not text:
        raise Invalid("phone number is empty", code="invalid_phone")
    candidate = text if text.startswith("+") else "+" + text.lstrip("0")
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as error:
        raise Invalid(f"not a phone number with a country code: {raw!r}", code="invalid_phone") from error
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"not a valid phone number: {raw!r}", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def region_of(wa_id: str) -> str | None:
    """ISO country code (e.g. 'DE') of a wa_id, or None when it cannot be told."""
    try:
        number = phonenumbers.parse("+" + wa_id, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(number) or None


def timezone_of(wa_id: str) -> str | None:
    """The zone to prefer for the number (its country's primary zone when the prefix does not narrow it).

    A guess: `engage.core.timezones.candidate_zones` lists every zone the number may be in.
    """
    return timezones.primary_zone(wa_id)

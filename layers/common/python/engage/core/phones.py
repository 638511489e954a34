"""Phone numbers: E.164 parsing, the wa_id form, and the country and time zone they imply."""

from __future__ import annotations

from engage.core import timezones
from engage.core.errors import EngageError


class PhoneRefused(EngageError):
    """A phone number that cannot be read as one person's number (the same 422 as body validation)."""

    status = 422
    code = "invalid_phone"


def is_region(code: str) -> bool:
    """True for an ISO 3166 region phonenumbers knows a numbering plan for ('DE', 'US')."""
    import phonenumbers  # on first use, not in every function's cold start

    return code in phonenumbers.SUPPORTED_REGIONS


def to_wa_id(raw: str, default_country: str | None = None) -> str:
    """'+49 151 2345 6789', '0049 151…', '4915123456789' -> '4915123456789'. Raises PhoneRefused.

    A number in national form ('015123456789': a leading 0, which no country code has) is read in
    `default_country` (an ISO region, e.g. 'DE'); without one it is refused, never guessed. Bare
    digits are the wa_id form (international only); a written form without '+' ('(415) 555-2671')
    is read as international first, then in `default_country`.
    """
    import phonenumbers  # on first use, not in every function's cold start

    text = raw.strip()
    if not text:
        raise PhoneRefused("phone number is empty", code="invalid_phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    digits_only = "".join(c for c in text if c.isdigit())
    candidates: list[tuple[str, str | None]] = []
    if text.startswith("+"):
        candidates.append((text, None))
    else:
        if not digits_only.startswith("0"):
            candidates.append(("+" + text, None))
        # Bare digits without a leading 0 are the wa_id form: never re-read in the default country.
        if default_country and (digits_only.startswith("0") or not text.isdigit()):
            candidates.append((text, default_country))
        elif digits_only.startswith("0"):
            raise PhoneRefused(
                f"{raw!r} is a national number: give it with its country code (+49 151 …), "
                "or set ENGAGE_DEFAULT_COUNTRY",
                code="phone_needs_country",
            )
    for candidate, region in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
    raise PhoneRefused(f"not a phone number: {raw!r} (give it with its country code, +49 151 …)", code="invalid_phone")


def region_of(wa_id: str) -> str | None:
    """ISO country code (e.g. 'DE') of a wa_id, or None when it cannot be told."""
    import phonenumbers  # on first use, not in every function's cold start

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

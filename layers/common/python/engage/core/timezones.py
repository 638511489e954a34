"""Where a customer's clock is: the zone we know, else the zones their number allows, and which one to prefer.

A customer's zone is *known* when they (or the shop) told us (`timezone_source` "api" or "shop").
Otherwise the number decides: phonenumbers narrows a number to the zones of its prefix (a US area
code, a Russian landline prefix), but a mobile number of a country spanning several zones can be in
any of them. `candidate_zones` returns every zone the number may be in (never zones of another
country sharing the calling code: +7 covers Russia and Kazakhstan), and `primary_zone` the one to
prefer: the country's primary zone when it is a candidate (Moscow, not the alphabetically first
Asia/Almaty). The send rules then allow only times that suit every candidate (delivery/policy.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field

KNOWN_SOURCES = ("api", "shop")  # a zone the customer or the shop told us; "number" is our guess

# Countries spanning several zones: their primary zone first, then every other zone they use
# (tzdata's zone1970.tab, plus the aliases phonenumbers' data names).
COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    "RU": (
        "Europe/Moscow",
        "Europe/Kaliningrad",
        "Europe/Samara",
        "Europe/Volgograd",
        "Europe/Ulyanovsk",
        "Europe/Astrakhan",
        "Europe/Saratov",
        "Europe/Kirov",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Barnaul",
        "Asia/Tomsk",
        "Asia/Novokuznetsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Chita",
        "Asia/Yakutsk",
        "Asia/Khandyga",
        "Asia/Vladivostok",
        "Asia/Ust-Nera",
        "Asia/Magadan",
        "Asia/Sakhalin",
        "Asia/Srednekolymsk",
        "Asia/Kamchatka",
        "Asia/Anadyr",
    ),  # fmt: skip
    "US": (
        "America/New_York",
        "America/Detroit",
        "America/Kentucky/Louisville",
        "America/Indiana/Indianapolis",
        "America/Chicago",
        "America/Menominee",
        "America/North_Dakota/Center",
        "America/Denver",
        "America/Boise",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "America/Juneau",
        "America/Sitka",
        "America/Nome",
        "America/Adak",
        "Pacific/Honolulu",
    ),  # fmt: skip
    "CA": (
        "America/Toronto",
        "America/St_Johns",
        "America/Halifax",
        "America/Glace_Bay",
        "America/Moncton",
        "America/Goose_Bay",
        "America/Winnipeg",
        "America/Regina",
        "America/Swift_Current",
        "America/Edmonton",
        "America/Vancouver",
        "America/Fort_Nelson",
        "America/Whitehorse",
        "America/Dawson_Creek",
        "America/Iqaluit",
        "America/Rankin_Inlet",
        "America/Cambridge_Bay",
    ),  # fmt: skip
    "MX": (
        "America/Mexico_City",
        "America/Cancun",
        "America/Merida",
        "America/Monterrey",
        "America/Matamoros",
        "America/Chihuahua",
        "America/Ciudad_Juarez",
        "America/Ojinaga",
        "America/Mazatlan",
        "America/Bahia_Banderas",
        "America/Hermosillo",
        "America/Tijuana",
    ),  # fmt: skip
    "BR": (
        "America/Sao_Paulo",
        "America/Noronha",
        "America/Belem",
        "America/Fortaleza",
        "America/Recife",
        "America/Araguaina",
        "America/Maceio",
        "America/Bahia",
        "America/Santarem",
        "America/Campo_Grande",
        "America/Cuiaba",
        "America/Porto_Velho",
        "America/Boa_Vista",
        "America/Manaus",
        "America/Eirunepe",
        "America/Rio_Branco",
    ),  # fmt: skip
    "AU": (
        "Australia/Sydney",
        "Australia/Melbourne",
        "Australia/Hobart",
        "Australia/Brisbane",
        "Australia/Lindeman",
        "Australia/Adelaide",
        "Australia/Broken_Hill",
        "Australia/Darwin",
        "Australia/Perth",
        "Australia/Eucla",
        "Australia/Lord_Howe",
        "Antarctica/Macquarie",
    ),  # fmt: skip
    "ID": ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"),
    "KZ": ("Asia/Almaty", "Asia/Qostanay", "Asia/Qyzylorda", "Asia/Aqtobe", "Asia/Aqtau", "Asia/Atyrau", "Asia/Oral"),
    "ES": ("Europe/Madrid", "Atlantic/Canary", "Africa/Ceuta"),
    "PT": ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"),
    "CL": ("America/Santiago", "America/Punta_Arenas", "Pacific/Easter"),
    "EC": ("America/Guayaquil", "Pacific/Galapagos"),
    "NZ": ("Pacific/Auckland", "Pacific/Chatham"),
    "CD": ("Africa/Kinshasa", "Africa/Lubumbashi"),
    "MN": ("Asia/Ulaanbaatar", "Asia/Hovd"),
    "AR": ("America/Argentina/Buenos_Aires", "America/Argentina/Cordoba"),
    "KI": ("Pacific/Tarawa", "Pacific/Kanton", "Pacific/Kiritimati"),
    "FM": ("Pacific/Pohnpei", "Pacific/Chuuk", "Pacific/Kosrae"),
    "PF": ("Pacific/Tahiti", "Pacific/Marquesas", "Pacific/Gambier"),
    "PS": ("Asia/Hebron", "Asia/Gaza"),  # phonenumbers names Europe/Bucharest as its UTC+2 stand-in
}


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_iana_zone(name: str) -> bool:
    if name not in _iana_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_zone(value: str) -> str:
    if not is_iana_zone(value):
        raise ValueError(f"not an IANA time zone name (e.g. 'Europe/Moscow'): {value[:60]!r}")
    return value


IanaZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_zone)]
"""A time zone name as the API and shop events accept it ('Europe/Moscow'; 'UTC' too)."""


def _number(wa_id: str) -> Any:
    import phonenumbers  # on first use, not in every function's cold start

    try:
        return phonenumbers.parse("+" + wa_id, None)
    except phonenumbers.NumberParseException:
        return None


def _usable(names: tuple[str, ...] | list[str]) -> list[str]:
    return [z for z in names if z != "Etc/Unknown" and is_iana_zone(z)]


def _listed_zones(wa_id: str) -> list[str]:
    """phonenumbers' own list for the number (what profiles used to store the first of)."""
    from phonenumbers import timezone as phone_timezones

    number = _number(wa_id)
    return _usable(list(phone_timezones.time_zones_for_number(number))) if number is not None else []


@lru_cache(maxsize=4096)
def candidate_zones(wa_id: str) -> tuple[str, ...]:
    """Every zone the holder of this number may be in (empty when the number tells nothing).

    phonenumbers narrows by prefix where the numbering plan allows. For a country of COUNTRY_ZONES
    its answer is used only when it names that country's zones alone: for a Russian mobile it
    lists every +7 zone, Kazakhstan's included, and then the country's own list is used.
    """
    import phonenumbers  # on first use, not in every function's cold start

    number = _number(wa_id)
    if number is None:
        return ()
    found = _listed_zones(wa_id)
    region = phonenumbers.region_code_for_number(number) or ""
    own = COUNTRY_ZONES.get(region)
    if own is None:
        return tuple(found)
    if found and all(z in own for z in found):
        return tuple(found)  # the prefix narrowed it to some of the country's zones
    # Nothing, or the whole calling code's list (other countries' zones, stand-ins such as
    # Europe/Bucharest for UTC+2): every zone of the country.
    return tuple(_usable(list(own)))


def primary_zone(wa_id: str) -> str | None:
    """The zone to prefer for this number: its country's primary zone when possible, else its own."""
    import phonenumbers  # on first use, not in every function's cold start

    zones = candidate_zones(wa_id)
    if not zones:
        return None
    number = _number(wa_id)
    region = (phonenumbers.region_code_for_number(number) if number is not None else None) or ""
    own = COUNTRY_ZONES.get(region)
    if own and own[0] in zones:
        return own[0]
    return zones[0]


@dataclass(frozen=True)
class Zones:
    """The zone the rules treat as the customer's, and every zone they may actually be in."""

    chosen: str
    candidates: tuple[str, ...]
    source: str  # "customer" (known), "number" (the number's zones), "country" (no number), "unknown"

    @property
    def certain(self) -> bool:
        return len(self.candidates) <= 1


def known_zone(timezone: str | None, source: str | None, wa_id: str | None) -> str | None:
    """The profile's zone when it was told to us, not guessed.

    Profiles written before zones had a source carry the number's alphabetically first zone; a
    sourceless zone that the number itself could imply is treated as that guess.
    """
    if not timezone or not is_iana_zone(timezone):
        return None
    if source in KNOWN_SOURCES:
        return timezone
    if source is None and not (wa_id and timezone in (*candidate_zones(wa_id), *_listed_zones(wa_id))):
        return timezone  # set by hand or by an older import: nothing says it is a guess
    return None


@lru_cache(maxsize=4096)
def zones_for(timezone: str | None, source: str | None, wa_id: str | None, country: str | None = None) -> Zones:
    """Known zone, else the number's zones (primary first choice), else the country's, else UTC."""
    known = known_zone(timezone, source, wa_id)
    if known:
        return Zones(chosen=known, candidates=(known,), source="customer")
    candidates = candidate_zones(wa_id) if wa_id else ()
    chosen = primary_zone(wa_id) if wa_id else None
    if chosen:
        return Zones(chosen=chosen, candidates=candidates, source="number")
    own = _usable(list(COUNTRY_ZONES.get(country or "", ())))
    if own:
        return Zones(chosen=own[0], candidates=tuple(own), source="country")
    if timezone and is_iana_zone(timezone):  # a guess stored without a number to check it against
        return Zones(chosen=timezone, candidates=(timezone,), source="number")
    return Zones(chosen="UTC", candidates=("UTC",), source="unknown")


@lru_cache(maxsize=512)
def zones_of_region(region: str) -> frozenset[str]:
    """The zones a country uses (COUNTRY_ZONES, else those of its example numbers)."""
    import phonenumbers  # on first use, not in every function's cold start
    from phonenumbers import timezone as phone_timezones

    if region in COUNTRY_ZONES:
        return frozenset(_usable(list(COUNTRY_ZONES[region])))
    found: set[str] = set()
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            found.update(_usable(list(phone_timezones.time_zones_for_number(example))))
    return frozenset(found)

"""Local time: the customer's known zone, else every zone their number may be in, with the country's primary zone.

Given a customer whose country spans several zones, when a send is allowed, then it is outside quiet
hours in every zone the number may be in, and inside the send window in every one of them whenever
such a time exists in the week (Russia spans eleven hours: then inside the primary zone's window).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.core import timezones
from engage.customers.profiles import Consent, Customer
from engage.delivery.config import SendingConfig
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.delivery.policy import decide, zones_of

# US marketing is refused outright (marketing_blocked_us); here only the clock is under test.
CFG = SendingConfig(marketing_blocked_regions=[])
RU_MOBILE = "79161234567"
ES_MOBILE = "34612345678"
AU_MOBILE = "61412345678"
MULTI_ZONE = sorted(timezones.COUNTRY_ZONES)


def customer(wa_id: str, **kw) -> Customer:
    return Customer(id="c_1", wa_id=wa_id, consent=Consent(marketing=True), **kw)


def job(category: str = "marketing") -> SendJob:
    message = TemplateMessage(template="promo", variables={})
    return SendJob(customer_id="c_1", send_key="k", campaign_id="cmp", category=category, message=message)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 23 Nov 2026 is a Monday


# ---------------------------------------------------------------- which zone
def test_a_russian_mobile_is_moscow_first_but_may_be_anywhere_in_russia_and_never_in_kazakhstan():
    zones = zones_of(customer(RU_MOBILE))
    assert zones.chosen == "Europe/Moscow" and zones.source == "number"
    assert {"Europe/Kaliningrad", "Asia/Vladivostok", "Asia/Kamchatka"} <= set(zones.candidates)
    assert not {"Asia/Almaty", "Europe/Bucharest"} & set(zones.candidates)


def test_a_prefix_that_narrows_the_zone_makes_it_certain():
    assert zones_of(customer("74951234567")).candidates == ("Europe/Moscow",)  # a Moscow landline
    assert zones_of(customer("74232123456")).candidates == ("Asia/Vladivostok",)
    assert zones_of(customer("12125551234")).candidates == ("America/New_York",)


def test_a_spanish_mobile_is_madrid_first_and_may_be_in_the_canaries():
    zones = zones_of(customer(ES_MOBILE))
    assert (zones.chosen, set(zones.candidates)) == ("Europe/Madrid", {"Europe/Madrid", "Atlantic/Canary"})


def test_a_known_zone_wins_over_the_number():
    zones = zones_of(customer(RU_MOBILE, timezone="Asia/Vladivostok", timezone_source="api"))
    assert (zones.chosen, zones.candidates, zones.source) == ("Asia/Vladivostok", ("Asia/Vladivostok",), "customer")


def test_a_zone_stored_before_zones_had_a_source_is_treated_as_the_guess_it_was():
    legacy = customer(RU_MOBILE, timezone="Asia/Almaty")  # what every Russian mobile used to get
    assert zones_of(legacy).chosen == "Europe/Moscow" and not zones_of(legacy).certain


def test_a_customer_without_a_number_uses_the_country_zones():
    bsuid_only = Customer(id="c_2", user_id="RU.1", country="RU", consent=Consent(marketing=True))
    assert zones_of(bsuid_only).chosen == "Europe/Moscow" and not zones_of(bsuid_only).certain


# ---------------------------------------------------------------- the examples of the bug
def test_a_moscow_customer_gets_no_marketing_at_six_in_the_evening():
    at = utc(23, 15)  # 18:00 Moscow, which Asia/Almaty (UTC+5) took for 20:00
    decision = decide(job(), customer(RU_MOBILE), [], CFG, at)
    assert decision.action == "defer"
    assert decision.until is not None
    for name in zones_of(customer(RU_MOBILE)).candidates:
        assert 8 <= decision.until.astimezone(ZoneInfo(name)).hour < 22


def test_a_moscow_customer_gets_no_utility_message_at_six_in_the_morning():
    decision = decide(job("utility"), customer(RU_MOBILE), [], CFG, utc(23, 3))  # 06:00 Moscow
    assert (decision.action, decision.reason) == ("defer", "quiet_hours")


def test_a_customer_who_told_us_moscow_gets_moscow_windows_exactly():
    moscow = customer(RU_MOBILE, timezone="Europe/Moscow", timezone_source="shop")
    assert decide(job(), moscow, [], CFG, utc(23, 7, 30)).action == "send"  # 10:30 Moscow
    evening = decide(job(), moscow, [], CFG, utc(23, 9))  # 12:00 Moscow
    assert evening.until == utc(23, 17)  # 20:00 Moscow


def test_a_spanish_mobile_gets_europe_windows_that_suit_the_canaries_too():
    # 08:30 Madrid is 07:30 on the Canaries (quiet there). The Canaries run an hour behind, so the
    # first time inside a window in both is 11:00 Madrid / 10:00 Canary.
    decision = decide(job(), customer(ES_MOBILE), [], CFG, utc(23, 7, 30))
    assert decision.until == utc(23, 10)


def test_regional_windows_follow_the_chosen_zone_not_the_country():
    dubai = customer("4915123456789", timezone="Asia/Dubai", timezone_source="api")
    decision = decide(job(), dubai, [], CFG, utc(23, 7))  # 11:00 Dubai: Middle East windows are 14-16
    assert decision.until == utc(23, 10)  # 14:00 Dubai
    tokyo = customer("4915123456789", timezone="Asia/Tokyo", timezone_source="api")  # 16:00 Tokyo
    assert decide(job(), tokyo, [], CFG, utc(23, 7)).until == utc(23, 11)  # 20:00 Tokyo (no 7-9 window)


# ---------------------------------------------------------------- generated numbers and instants
TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


def random_number(region: str, kind: int, digits: int) -> str | None:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return None
    national = str(example.national_number)
    keep = max(len(national) - 4, 1)
    number = phonenumbers.parse(f"+{example.country_code}{national[:keep]}{digits:04d}"[: 1 + 16], None)
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != region:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


numbers = st.builds(random_number, st.sampled_from(MULTI_ZONE), st.sampled_from(TYPES), st.integers(0, 9999)).filter(
    bool
)
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def quiet(at: datetime, zone: str) -> bool:
    hour = at.astimezone(ZoneInfo(zone)).hour
    return hour >= CFG.windows.quiet_start or hour < CFG.windows.quiet_end


def in_window(at: datetime, zone: str, chosen: str) -> bool:
    """The default windows (an oracle written from docs/sending.md, not from the code)."""
    local = at.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    if chosen.startswith(("Europe/", "America/")) or chosen in (
        "Atlantic/Canary",
        "Atlantic/Madeira",
        "Atlantic/Azores",
    ):  # noqa: E501
        hours = [(8, 9), (10, 12), (20, 22)]
    elif chosen in ("Asia/Hebron", "Asia/Gaza"):
        hours = [(14, 16), (20, 22)]
    else:
        hours = [(10, 12), (20, 22)]
    return any(a * 60 <= minute < b * 60 for a, b in hours)


@cache
def inside_everywhere_exists(candidates: tuple[str, ...], chosen: str, week_of: datetime) -> bool:
    """Brute force on a 15-minute grid: is any time of this week inside the window in every zone?"""
    return any(
        all(in_window(week_of + timedelta(minutes=15 * k), z, chosen) for z in candidates) for k in range(8 * 96)
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(wa_id=numbers, at=instants)
def test_an_allowed_marketing_send_suits_every_zone_the_number_may_be_in(wa_id: str, at: datetime):
    c = customer(wa_id)
    zones = zones_of(c)
    decision = decide(job(), c, [], CFG, at)
    when = at if decision.action == "send" else decision.until
    assert decision.action in ("send", "defer") and when is not None
    # Then: never in quiet hours anywhere, always inside the chosen zone's window, ...
    assert not any(quiet(when, z) for z in zones.candidates), (wa_id, when, zones)
    assert in_window(when, zones.chosen, zones.chosen)
    # ... and inside the window in every zone whenever the week has such a time.
    week_of = at.replace(minute=(at.minute // 15) * 15, second=0, microsecond=0)
    if inside_everywhere_exists(zones.candidates, zones.chosen, week_of - timedelta(days=week_of.weekday())):
        assert all(in_window(when, z, zones.chosen) for z in zones.candidates), (wa_id, when, zones)
    # And a deferred send is allowed at the time it was deferred to.
    if decision.action == "defer":
        assert decide(job(), c, [], CFG, when).action == "send"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(wa_id=numbers, at=instants)
def test_an_allowed_utility_send_is_outside_quiet_hours_in_every_zone(wa_id: str, at: datetime):
    c = customer(wa_id)
    decision = decide(job("utility"), c, [], CFG, at)
    when = at if decision.action == "send" else decision.until
    assert when is not None and not any(quiet(when, z) for z in zones_of(c).candidates)


@pytest.mark.parametrize("region", MULTI_ZONE)
def test_every_multi_zone_country_has_a_daily_time_outside_quiet_hours_everywhere(region: str):
    zones = [ZoneInfo(z) for z in timezones.COUNTRY_ZONES[region] if timezones.is_iana_zone(z)]
    start = utc(23, 0)
    assert any(
        all(8 <= (start + timedelta(minutes=15 * k)).astimezone(z).hour < 22 for z in zones) for k in range(96)
    ), region

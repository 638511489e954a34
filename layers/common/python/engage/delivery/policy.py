"""The rules a send must pass, as pure functions of (job, customer, history, config, now).

`decide` answers send, defer (with the earliest time it may go) or refuse (with a reason). Windows
and caps defer; only what can never become true (no consent, undeliverable, free text outside the
service window, a marketing template to a region Meta blocks, a cap that clears too late) refuses.
`endpoint_for` routes a message to the Cloud API endpoint it belongs on. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from engage.core import phones, timezones
from engage.core.time import parse_iso
from engage.customers.profiles import Customer
from engage.delivery.config import SendingConfig, Window
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.delivery.outbound import Endpoint

Content = Literal["promotional", "useful", "transactional"]
COUNTED_STATES = ("sent", "intent")


@dataclass(frozen=True)
class PastSend:
    """One earlier send to the customer, as the caps see it."""

    send_key: str
    category: str
    at: datetime
    content: str = "promotional"
    urgent: bool = False


@dataclass(frozen=True)
class SendContext:
    """What the campaign adds to a job: the kind of content and how it is scheduled."""

    content: Content = "promotional"
    urgent: bool = False
    best_window: bool = False


@dataclass(frozen=True)
class Decision:
    action: Literal["send", "defer", "refuse"]
    reason: str = ""
    until: datetime | None = None
    notes: list[str] = field(default_factory=list)


SEND = Decision("send")


def past_sends(items: Iterable[dict], *, exclude_key: str | None = None) -> list[PastSend]:
    """Send items (stored dicts) that count against caps: sent, or in flight."""
    found = []
    for item in items:
        if item.get("send_key") == exclude_key or item.get("state") not in COUNTED_STATES:
            continue
        at = item.get("sent_at") or item.get("intent_at")
        if not at:
            continue
        found.append(
            PastSend(
                send_key=item["send_key"],
                category=item.get("category", "marketing"),
                at=parse_iso(at),
                content=item.get("content", "promotional"),
                urgent=bool(item.get("urgent")),
            )
        )
    return sorted(found, key=lambda p: p.at)


# ---------------------------------------------------------------- refusals
def refusal(job: SendJob, customer: Customer, config: SendingConfig, now: datetime) -> str | None:
    if customer.undeliverable:
        return "undeliverable"
    if not customer.wa_id and not customer.user_id:
        return "no_address"
    if job.category == "marketing" and not customer.consent.marketing:
        return "no_consent"
    if not isinstance(job.message, TemplateMessage) and not in_service_window(customer, config, now):
        return "needs_template"
    if job.category == "marketing" and isinstance(job.message, TemplateMessage):
        region = blocked_region(customer, config)
        if region:
            return f"marketing_blocked_{region.lower()}"  # e.g. marketing_blocked_us
    return None


def address_region(customer: Customer) -> str | None:
    """The region of the address we send to: the phone number's, else the BSUID's prefix (`US.…`)."""
    if customer.wa_id:
        region = phones.region_of(customer.wa_id)
        if region is None and customer.wa_id.startswith("1"):
            return "US"  # a +1 number we cannot place: treat it as the US, never risk the block
        return region
    if customer.user_id and "." in customer.user_id:
        return customer.user_id.split(".", 1)[0].upper()
    return None


def blocked_region(customer: Customer, config: SendingConfig) -> str | None:
    """The customer's region when Meta delivers no marketing templates there (US since April 2025)."""
    region = address_region(customer)
    return region if region and region in {r.upper() for r in config.marketing_blocked_regions} else None


def endpoint_for(job: SendJob, template_category: str | None = None) -> Endpoint:
    """Marketing templates go through the Marketing Messages API (`/marketing_messages`, Meta's
    routing guidance of Sep 2026); everything else through `/messages`. `template_category` is the
    template's own category as WhatsApp last told us (it may differ from the job's, see
    campaigns.template_updates); without it the job's category decides."""
    if not isinstance(job.message, TemplateMessage):
        return "messages"
    category = (template_category or job.category).lower()
    return "marketing_messages" if category == "marketing" else "messages"


def in_service_window(customer: Customer, config: SendingConfig, now: datetime) -> bool:
    if not customer.last_inbound_at:
        return False
    return now - parse_iso(customer.last_inbound_at) < timedelta(hours=config.service_window_hours)


# ---------------------------------------------------------------- local time and windows
# A customer's zone is known (profile zone told by the API or the shop), or guessed from the number:
# then `chosen` is the country's primary zone and `candidates` every zone the number may be in. A
# send must suit every candidate: inside the window and outside quiet hours in each. Where no time
# of the week does (Russia spans eleven hours), the chosen zone's window still has to fall outside
# quiet hours in every candidate; only if even that never happens does the chosen zone alone decide.
Interval = tuple[datetime, datetime]
EUROPE_AMERICAS_ATLANTIC = frozenset(
    {"Atlantic/Canary", "Atlantic/Madeira", "Atlantic/Azores", "Atlantic/Faroe", "Atlantic/Reykjavik",
     "Atlantic/Bermuda", "Atlantic/Stanley"}
)  # fmt: skip


def zones_of(customer: Customer) -> timezones.Zones:
    return timezones.zones_for(customer.timezone, customer.timezone_source, customer.wa_id, customer.country)


def zone_of(customer: Customer) -> ZoneInfo:
    """The zone the rules treat as the customer's (known, else the number's primary zone, else UTC)."""
    return ZoneInfo(zones_of(customer).chosen)


def country_of(customer: Customer) -> str | None:
    return customer.country or (phones.region_of(customer.wa_id) if customer.wa_id else None)


@lru_cache(maxsize=64)
def middle_east_zones(countries: tuple[str, ...]) -> frozenset[str]:
    return frozenset(z for c in countries for z in timezones.zones_of_region(c))


def region_of_zone(zone: str, config: SendingConfig) -> str:
    """'middle_east', 'europe_americas' or 'other': which regional windows a zone's clock gets."""
    if zone in middle_east_zones(tuple(config.windows.middle_east_countries)):
        return "middle_east"
    if zone.startswith(("Europe/", "America/")) or zone in EUROPE_AMERICAS_ATLANTIC:
        return "europe_americas"
    return "other"


def windows_for(customer: Customer, config: SendingConfig, local_day: datetime) -> list[Window]:
    """The regional windows of the customer's chosen zone (its region, not the number's country)."""
    w = config.windows
    zones = zones_of(customer)
    region = region_of_zone(zones.chosen, config)
    if zones.source == "unknown" and (country_of(customer) or "") in w.middle_east_countries:
        region = "middle_east"
    chosen = {"middle_east": w.middle_east, "europe_americas": w.europe_americas}.get(region, w.weekday)
    if local_day.weekday() >= 5 and w.weekend is not None:
        chosen = w.weekend
    return chosen


def minus_quiet(window: Window, config: SendingConfig) -> Window | None:
    """The part of `window` outside quiet hours (quiet wraps midnight: [quiet_start, 24) + [0, quiet_end))."""
    q = config.windows
    start, end = max(window.start, q.quiet_end), min(window.end, q.quiet_start)
    return Window(start=start, end=end) if start < end else None


def preferred(customer: Customer, chosen: list[Window], zone: ZoneInfo) -> list[Window]:
    """Best-window schedule: the window holding the hour the customer last read at, if any."""
    if not customer.last_read_at:
        return chosen
    hour = parse_iso(customer.last_read_at).astimezone(zone).hour
    matching = [w for w in chosen if w.start <= hour < w.end]
    return matching or chosen


def allowed_windows(
    job: SendJob, customer: Customer, context: SendContext, config: SendingConfig, local_day: datetime
) -> list[Window]:
    quiet_free = Window(start=config.windows.quiet_end, end=config.windows.quiet_start)
    if job.category in ("service", "authentication"):
        return [Window(start=0, end=24)]
    if job.category != "marketing":
        return [quiet_free]
    chosen = [w for w in (minus_quiet(w, config) for w in windows_for(customer, config, local_day)) if w]
    if context.best_window:
        chosen = preferred(customer, chosen, zone_of(customer))
    return sorted(chosen, key=lambda w: w.start)


def _local_intervals(zone: ZoneInfo, moment: datetime, days: int, windows: Callable[[datetime], list[Window]]) -> list:
    """The UTC intervals, from the local day before `moment` on, that `windows(local_day)` allows in `zone`."""
    first = moment.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    found: list[Interval] = []
    for offset in range(days + 2):
        day = (first + timedelta(days=offset)).replace(tzinfo=None)
        for window in windows(day):
            start = datetime.combine(day.date(), datetime.min.time()) + timedelta(hours=window.start)
            end = datetime.combine(day.date(), datetime.min.time()) + timedelta(hours=window.end)
            found.append((start.replace(tzinfo=zone).astimezone(UTC), end.replace(tzinfo=zone).astimezone(UTC)))
    return _merge(found)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _earliest(intervals: list[Interval], moment: datetime) -> datetime | None:
    for start, end in intervals:
        if moment < end:
            return max(moment, start)
    return None


LOOK_AHEAD_DAYS = 8  # local days searched for a window when the next one is not within a day


def next_window_time(
    job: SendJob, customer: Customer, context: SendContext, config: SendingConfig, moment: datetime
) -> datetime:
    """The earliest time >= moment that suits the customer's local time in every zone they may be in."""
    zones = zones_of(customer)
    at = moment.astimezone(UTC)

    def windows(local_day: datetime) -> list[Window]:
        return allowed_windows(job, customer, context, config, local_day)

    def earliest(days: int) -> tuple[datetime | None, list[Interval], list[ZoneInfo]]:
        chosen = _local_intervals(ZoneInfo(zones.chosen), at, days, windows)
        others = [] if zones.certain else [ZoneInfo(z) for z in zones.candidates if z != zones.chosen]
        everywhere = chosen
        for zone in others:
            everywhere = _intersect(everywhere, _local_intervals(zone, at, days, windows))
        return _earliest(everywhere, at), chosen, others

    # Nearly every answer lies within a day, and the intervals of a shorter horizon are the week's
    # cut at that horizon, so a time found there is the week's earliest too; only a miss needs the week.
    found, chosen, others = earliest(1)
    if found is None:
        found, chosen, others = earliest(LOOK_AHEAD_DAYS)
        if found is None and others:  # no time of the week is inside the window everywhere: quiet hours still are
            quiet_free = config.windows

            def awake(local_day: datetime) -> list[Window]:
                return [Window(start=quiet_free.quiet_end, end=quiet_free.quiet_start)]

            calm = chosen
            for zone in others:
                calm = _intersect(calm, _local_intervals(zone, at, LOOK_AHEAD_DAYS, awake))
            found = _earliest(calm, at) or _earliest(chosen, at)
    if found is None:
        return moment + timedelta(days=7)  # no window configured at all: try again in a week
    return found.astimezone(moment.tzinfo)


# ---------------------------------------------------------------- caps
def is_new(customer: Customer, config: SendingConfig, at: datetime) -> bool:
    first = customer.first_order_at
    return bool(first) and at - parse_iso(first) <= timedelta(days=config.caps.new_customer_days)  # type: ignore[arg-type]


def activity(customer: Customer, config: SendingConfig, at: datetime) -> str:
    last = customer.last_interaction_at or customer.last_inbound_at or customer.last_order_at
    if not last:
        return "unknown"
    idle = at - parse_iso(last)
    if idle <= timedelta(days=config.caps.active_days):
        return "active"
    if idle >= timedelta(days=config.caps.dormant_after_days):
        return "dormant"
    return "idle"


def window_count_clear(sends: list[PastSend], at: datetime, days: float, limit: int) -> datetime:
    """Earliest time >= at when fewer than `limit` of `sends` fall in the trailing `days`."""
    span = timedelta(days=days)
    recent = [s.at for s in sends if s.at > at - span]
    if len(recent) < limit:
        return at
    return recent[len(recent) - limit] + span


def gap_clear(sends: list[PastSend], at: datetime, days: float) -> datetime:
    if not sends:
        return at
    return max(at, sends[-1].at + timedelta(days=days))


CapCheck = Callable[[list[PastSend], SendContext, Customer, SendingConfig, datetime], datetime]


def cap_promo(marketing: list[PastSend], ctx: SendContext, c: Customer, cfg: SendingConfig, at: datetime) -> datetime:
    if ctx.content != "promotional":
        return at
    promos = [s for s in marketing if s.content == "promotional"]
    if is_new(c, cfg, at):
        return window_count_clear(promos, at, 1, cfg.caps.new_customer_max_per_day)
    gap = gap_clear(promos, at, cfg.caps.promo_min_gap_days)
    return max(gap, window_count_clear(promos, at, 30, cfg.caps.promo_max_per_30_days))


def cap_useful(marketing: list[PastSend], ctx: SendContext, c: Customer, cfg: SendingConfig, at: datetime) -> datetime:
    if ctx.content != "useful":
        return at
    useful = [s for s in marketing if s.content == "useful"]
    return window_count_clear(useful, at, 7, cfg.caps.useful_max_per_7_days)


def cap_activity(
    marketing: list[PastSend], ctx: SendContext, c: Customer, cfg: SendingConfig, at: datetime
) -> datetime:
    state = activity(c, cfg, at)
    if state == "active":
        return window_count_clear(marketing, at, 7, cfg.caps.active_max_per_7_days)
    if state == "dormant":
        return gap_clear(marketing, at, cfg.caps.dormant_min_gap_days)
    return at


def cap_urgent(marketing: list[PastSend], ctx: SendContext, c: Customer, cfg: SendingConfig, at: datetime) -> datetime:
    if not ctx.urgent:
        return at
    return window_count_clear([s for s in marketing if s.urgent], at, 7, cfg.caps.urgent_max_per_7_days)


def cap_burst(marketing: list[PastSend], ctx: SendContext, c: Customer, cfg: SendingConfig, at: datetime) -> datetime:
    """No more than `max_consecutive_days` days in a row with a marketing send (UTC days)."""
    days = {s.at.date() for s in marketing}
    n = cfg.caps.max_consecutive_days
    today = at.date()
    if today in days:
        return at  # today already counts; the gap and per-week caps govern a second send
    if all(today - timedelta(days=k) in days for k in range(1, n + 1)):
        return at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return at


CAPS: dict[str, CapCheck] = {
    "cap:promotional": cap_promo,
    "cap:useful": cap_useful,
    "cap:activity": cap_activity,
    "cap:urgent": cap_urgent,
    "cap:consecutive_days": cap_burst,
}


def cap_clear(
    history: list[PastSend], ctx: SendContext, customer: Customer, config: SendingConfig, at: datetime
) -> tuple[datetime, str]:
    """Earliest time >= at that every cap allows, and the cap that bound it ("" if none)."""
    marketing = [s for s in history if s.category == "marketing"]
    latest, reason = at, ""
    for name, check in CAPS.items():
        clear = check(marketing, ctx, customer, config, at)
        if clear > latest:
            latest, reason = clear, name
    return latest, reason


def pair_clear(history: list[PastSend], config: SendingConfig, at: datetime, last_sent: datetime | None) -> datetime:
    times = [s.at for s in history] + ([last_sent] if last_sent else [])
    if not times:
        return at
    return max(at, max(times) + timedelta(seconds=config.pair_limit_seconds))


# ---------------------------------------------------------------- the decision
def decide(
    job: SendJob,
    customer: Customer,
    history: list[PastSend],
    config: SendingConfig,
    now: datetime,
    *,
    context: SendContext | None = None,
    last_sent: datetime | None = None,
) -> Decision:
    """Send now, defer until a time (windows, caps, pair limit), or refuse for good."""
    context = context or SendContext(content="promotional" if job.category == "marketing" else "transactional")
    reason = refusal(job, customer, config, now)
    if reason:
        return Decision("refuse", reason)
    at, why = now, ""
    for _ in range(6):  # windows and caps settle in a few rounds (each only moves time forward)
        capped, cap_reason = (
            cap_clear(history, context, customer, config, at) if job.category == "marketing" else (at, "")
        )
        windowed = next_window_time(job, customer, context, config, capped)
        paired = pair_clear(history, config, windowed, last_sent)
        if paired == at:
            break
        why = why or cap_reason or ("send_window" if windowed > capped else "pair_limit")
        at = paired
    if at <= now:
        return SEND
    if why.startswith("cap:") and at - now > timedelta(hours=config.max_defer_hours):
        return Decision("refuse", why, until=at)
    if why == "send_window" and is_quiet(customer, config, now):
        why = "quiet_hours"
    return Decision("defer", why, until=at)


def is_quiet(customer: Customer, config: SendingConfig, now: datetime) -> bool:
    """Quiet hours in any zone the customer may be in."""
    q = config.windows
    for name in zones_of(customer).candidates:
        hour = now.astimezone(ZoneInfo(name)).hour
        if hour >= q.quiet_start or hour < q.quiet_end:
            return True
    return False

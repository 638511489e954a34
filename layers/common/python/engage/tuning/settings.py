"""Every number a marketer may tune, in one document: read with its defaults, changed with checks,
logged with who changed what.

The numbers stay in the config models of the capabilities that use them (`SendingConfig`,
`MetricsConfig`, `HealthConfig`, `LifecycleConfig`, `ReplyConfig`) and in the stored items those
capabilities already read (`CONFIG / sending`, `metrics`, `tagging`, `replies`, `customers`): this
module only assembles them into one document, checks a change (types, unknown keys, ranges,
consistency) and says what changed. A change written here is what the sender, the alert job, the
tag-health job and the phone reader read next; there is no second copy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from phonenumbers import SUPPORTED_REGIONS
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engage.core.errors import Invalid
from engage.core.time import iso
from engage.delivery.config import SendingConfig
from engage.inbound.replies import ReplyConfig
from engage.metrics.funnel import MetricsConfig
from engage.tagging.catalog import HealthConfig
from engage.tagging.lifecycle import LifecycleConfig
from engage.tuning.ports import SettingsStore

AREAS = ("sending", "metrics", "tagging", "replies", "customers")


class InvalidSetting(Invalid):
    status = 422
    code = "invalid_setting"


class TaggingSettings(BaseModel):
    """Stored as CONFIG / tagging under `config` (the shape the tagging jobs read)."""

    health: HealthConfig = Field(default_factory=HealthConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)


class CustomerSettings(BaseModel):
    # None: the deployment's ENGAGE_DEFAULT_COUNTRY (which may itself be unset: national numbers refused).
    default_country: str | None = None


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sending: SendingConfig = Field(default_factory=SendingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    tagging: TaggingSettings = Field(default_factory=TaggingSettings)
    replies: ReplyConfig = Field(default_factory=ReplyConfig)
    customers: CustomerSettings = Field(default_factory=CustomerSettings)


# Allowed range of every number, by dotted path (`*` is any list index or map key). A number with no
# range here is refused, so a field added to a config model must get its range (a test checks).
DAYS, SHARE = (1, 3650), (0, 1)
BOUNDS: dict[str, tuple[float, float]] = {
    "sending.caps.promo_min_gap_days": (0, 365),
    "sending.caps.promo_max_per_30_days": (0, 60),
    "sending.caps.useful_max_per_7_days": (0, 50),
    "sending.caps.active_max_per_7_days": (0, 50),
    "sending.caps.active_days": (1, 365),
    "sending.caps.dormant_after_days": (1, 1000),
    "sending.caps.dormant_min_gap_days": (0, 365),
    "sending.caps.new_customer_days": (0, 90),
    "sending.caps.new_customer_max_per_day": (0, 24),
    "sending.caps.max_consecutive_days": (1, 31),
    "sending.caps.urgent_max_per_7_days": (0, 50),
    "sending.windows.*.*.start": (0, 24),
    "sending.windows.*.*.end": (0, 24),
    "sending.windows.quiet_start": (0, 24),
    "sending.windows.quiet_end": (0, 24),
    "sending.throttle.campaign_rate_per_minute": (1, 60_000),
    "sending.throttle.number_throughput_per_second": (1, 1000),
    "sending.throttle.inbound_headroom": (0, 0.9),
    "sending.throttle.block": (1, 100),
    "sending.throttle.lookahead_seconds": (0, 10),
    "sending.throttle.pace_margin": (0, 0.49),
    "sending.throttle.lead_seconds": (0, 5),
    "sending.throttle.stale_grace_seconds": (0, 5),
    "sending.throttle.max_wait_seconds": (0, 60),
    "sending.throttle.shards": (0, 64),
    "sending.throttle.penalty_seconds_on_130429": (0, 60),
    "sending.retry.base_seconds": (1, 900),
    "sending.retry.max_seconds": (1, 43_200),
    "sending.retry.pair_delays.*": (0, 900),
    "sending.retry.per_user_wait_hours": (1, 168),
    "sending.retry.unknown_outcome_grace_minutes": (1, 1440),
    "sending.ab.sample_fraction": (0.01, 0.5),
    "sending.ab.large_list": (2, 10_000_000),
    "sending.ab.large_sample_per_variant": (1, 1_000_000),
    "sending.ab.window_minutes": (1, 10_080),
    "sending.ab.min_lead": (0, 10),
    "sending.ab.rollout_hours": (1, 168),
    "sending.ab.min_delivered_per_variant": (1, 1_000_000),
    "sending.ab.evidence_wait_hours": (0, 168),
    "sending.retarget.max_followups": (0, 5),
    "sending.retarget.min_gap_hours": (24, 720),  # never closer than 24 hours (DESIGN §4 retargeting)
    "sending.pair_limit_seconds": (0, 3600),
    "sending.service_window_hours": (1, 24),  # WhatsApp's customer-service window is 24 hours at most
    "sending.max_defer_hours": (1, 720),
    "sending.campaign_horizon_hours": (1, 720),
    "sending.messaging_tier": (1, 1_000_000_000),
    "sending.state_cache_seconds": (0, 300),
    "sending.dispatch_page": (1, 5000),
    "metrics.ranges.*.*": SHARE,
    "metrics.alerts.opt_out_rate_max": SHARE,
    "metrics.alerts.read_rate_min": SHARE,
    "metrics.alerts.delivery_rate_min": SHARE,
    "metrics.alerts.click_drop_min": SHARE,
    "metrics.alerts.min_sample": (1, 1_000_000),
    "metrics.alerts.opt_out_min_sample": (1, 1_000_000),
    "metrics.alerts.opt_out_min_count": (1, 1_000_000),
    "metrics.alerts.read_min_age_hours": (0, 720),
    "metrics.alerts.active_days": (1, 90),
    "metrics.link_ttl_days": DAYS,
    "metrics.daily_max_days": (1, 366),
    "metrics.report_after_hours": (1, 168),
    "tagging.health.silent_days": (1, 365),
    "tagging.health.overloaded_share": (0.01, 1),
    "tagging.health.split_into": (2, 20),
    "tagging.health.healthy_min": (0, 1000),
    "tagging.health.healthy_max": (1, 1000),
    "tagging.health.warn_above": (1, 5000),
    "tagging.lifecycle.*_days": DAYS,
    "tagging.lifecycle.high_active_orders_30d": (1, 100),
    "tagging.lifecycle.audit_months.*": (1, 12),
    "tagging.lifecycle.value_high_share": SHARE,
    "tagging.lifecycle.value_mid_share": SHARE,
    "replies.attribution_window_hours": (1, 720),
}
MAX_LIST = 50  # entries in any list (windows, countries, urgency words, delays)
MAX_TEXT = 60  # characters of a list's text entry (an urgency word)


def bounds_of(path: str) -> tuple[float, float] | None:
    pattern = ".".join("*" if part.isdigit() else part for part in path.split("."))
    for key, value in BOUNDS.items():
        if fnmatchcase(pattern, key) or fnmatchcase(path, key):
            return value
    return None


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every scalar, list entries by index."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from leaves(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            yield from leaves(inner, f"{path}.{i}")
    else:
        yield path, value


def flat(value: Any, path: str = "") -> dict[str, Any]:
    """Dotted path -> value, descending into maps only (a list is one value): the unit of a change."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flat(inner, f"{path}.{key}" if path else str(key)))
        return out
    return {path: value}


# ---------------------------------------------------------------- reading
def from_documents(documents: Mapping[str, Mapping[str, Any]]) -> Settings:
    """The settings the system runs with: stored areas over the defaults (as each capability reads them)."""
    return Settings(
        sending=SendingConfig.model_validate(documents.get("sending") or {}),
        metrics=MetricsConfig.from_document(documents.get("metrics")),
        tagging=TaggingSettings.model_validate(documents.get("tagging") or {}),
        replies=ReplyConfig.model_validate(documents.get("replies") or {}),
        customers=CustomerSettings.model_validate(documents.get("customers") or {}),
    )


def current(store: SettingsStore) -> Settings:
    return from_documents(store.documents())


def dump(settings: Settings) -> dict[str, Any]:
    return settings.model_dump(mode="json")


# ---------------------------------------------------------------- checking a change
def _unknown_keys(given: Any, known: Any, path: str = "") -> list[str]:
    if not isinstance(given, Mapping) or not isinstance(known, Mapping):
        return []
    found = []
    for key, inner in given.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in known:
            found.append(where)
        else:
            found.extend(_unknown_keys(inner, known[key], where))
    return found


def _merge(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        old = out.get(key)
        out[key] = _merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return out


def _message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    return f"{where}: {first['msg']}"


def check(document: Mapping[str, Any]) -> Settings:
    """The document as settings, or InvalidSetting naming the first problem's path."""
    unknown = _unknown_keys(document, dump(Settings()))
    if unknown:
        raise InvalidSetting(f"unknown setting {unknown[0]!r}", code="unknown_setting", details={"path": unknown[0]})
    try:
        # Strict JSON validation: no number is read from a string, no true from "yes".
        settings = Settings.model_validate_json(json.dumps(document), strict=True)
    except ValidationError as error:
        raise InvalidSetting(_message(error)) from error
    except ValueError as error:  # NaN or infinity: not JSON
        raise InvalidSetting(f"not a finite number: {error}") from error
    for path, value in leaves(dump(settings)):
        _check_leaf(path, value)
    for problem in consistency(settings):
        raise InvalidSetting(problem)
    return settings


def _check_leaf(path: str, value: Any) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        limits = bounds_of(path)
        if limits is None:
            raise InvalidSetting(f"{path} has no allowed range: it cannot be changed here")
        low, high = limits
        if not low <= value <= high:
            raise InvalidSetting(f"{path} must be between {low:g} and {high:g}, not {value:g}", details={"path": path})
    elif isinstance(value, str) and not 0 < len(value) <= MAX_TEXT:
        raise InvalidSetting(f"{path} must be 1-{MAX_TEXT} characters", details={"path": path})


def _regions(path: str, codes: list[str] | None) -> list[str]:
    bad = [c for c in codes or [] if c not in SUPPORTED_REGIONS]
    return [f"{path}: unknown country code {bad[0]!r} (ISO 3166 alpha-2 in capitals, e.g. DE)"] if bad else []


def consistency(s: Settings) -> list[str]:
    """What ranges alone cannot say: windows that open before they close, ordered thresholds."""
    problems: list[str] = []
    w = s.sending.windows
    named = {"weekday": w.weekday, "weekend": w.weekend or [], "middle_east": w.middle_east}
    named["europe_americas"] = w.europe_americas
    for name, windows in named.items():
        if len(windows) > MAX_LIST:
            problems.append(f"sending.windows.{name}: at most {MAX_LIST} windows")
        problems += [
            f"sending.windows.{name}.{i}: start ({x.start}) must be before end ({x.end})"
            for i, x in enumerate(windows)
            if x.start >= x.end
        ]
    if not w.quiet_end <= w.quiet_start:
        problems.append("sending.windows: quiet hours wrap midnight, so quiet_end must not be after quiet_start")
    for path, values in (
        ("sending.windows.middle_east_countries", w.middle_east_countries),
        ("sending.marketing_blocked_regions", s.sending.marketing_blocked_regions),
        ("sending.urgency_words", s.sending.urgency_words),
        ("sending.retry.pair_delays", s.sending.retry.pair_delays),
    ):
        if len(values) > MAX_LIST:
            problems.append(f"{path}: at most {MAX_LIST} entries")
    problems += _regions("sending.windows.middle_east_countries", w.middle_east_countries)
    problems += _regions("sending.marketing_blocked_regions", s.sending.marketing_blocked_regions)
    country = s.customers.default_country
    problems += _regions("customers.default_country", [country] if country is not None else [])
    if s.sending.retry.base_seconds > s.sending.retry.max_seconds:
        problems.append("sending.retry: base_seconds must not exceed max_seconds")
    h = s.tagging.health
    if not h.healthy_min <= h.healthy_max <= h.warn_above:
        problems.append("tagging.health: healthy_min <= healthy_max <= warn_above")
    life = s.tagging.lifecycle
    if life.growth_from_days >= life.growth_until_days:
        problems.append("tagging.lifecycle: growth_from_days must be before growth_until_days")
    if life.value_high_share + life.value_mid_share > 1:
        problems.append("tagging.lifecycle: value_high_share + value_mid_share must not exceed 1")
    for name, band in s.metrics.ranges.items():
        if band.min is not None and band.max is not None and band.min > band.max:
            problems.append(f"metrics.ranges.{name}: min must not exceed max")
    return problems


# ---------------------------------------------------------------- changing
def changes(before: Settings, after: Settings) -> list[dict[str, Any]]:
    old, new = flat(dump(before)), flat(dump(after))
    return [
        {"path": path, "from": old.get(path), "to": new.get(path)}
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def area_document(settings: Settings, area: str) -> dict[str, Any]:
    return dict(dump(settings)[area])


def change(
    store: SettingsStore,
    body: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    replace: bool,
    reason: str | None = None,
) -> tuple[Settings, dict[str, Any] | None]:
    """Applies a change (`replace`: the whole document, anything missing back to its default; else a
    partial document merged into the current one). Returns the settings now in force and the log
    entry (None when nothing changed: nothing is written)."""
    before = current(store)
    document = dict(body) if replace else _merge(dump(before), body)
    after = check(document)
    changed = changes(before, after)
    if not changed:
        return before, None
    areas = sorted({c["path"].split(".", 1)[0] for c in changed})
    entry = {
        "id": f"{now:%Y%m%d%H%M%S%f}-{uuid.uuid4().hex[:6]}",  # time-ordered: two changes in a second keep order
        "at": iso(now),
        "by": by,
        "changes": changed,
        "areas": areas,
        **({"reason": reason} if reason else {}),
    }
    store.save({area: area_document(after, area) for area in areas}, entry)
    return after, entry


def ranges() -> dict[str, list[float]]:
    """The allowed range of every number (for forms and the docs)."""
    return {path: [low, high] for path, (low, high) in BOUNDS.items()}

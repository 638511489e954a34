"""Every sending number a marketer may tune (the playbook's defaults), with its default.

Stored as one JSON document at `pk=CONFIG, sk=sending`; anything missing falls back to the
default here, so an empty or partial document is always valid.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Window(BaseModel):
    """Local hours [start, end) in which marketing may be delivered."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0, le=24)
    end: int = Field(ge=0, le=24)


def windows(*pairs: tuple[int, int]) -> list[Window]:
    return [Window(start=a, end=b) for a, b in pairs]


MIDDLE_EAST = ["AE", "SA", "QA", "KW", "BH", "OM", "JO", "LB", "IQ", "IR", "YE", "SY", "PS", "IL", "EG"]


class CapConfig(BaseModel):
    promo_min_gap_days: float = 7
    promo_max_per_30_days: int = 2
    useful_max_per_7_days: int = 1
    active_max_per_7_days: int = 3
    active_days: int = 30
    dormant_after_days: int = 90
    dormant_min_gap_days: float = 14
    new_customer_days: int = 3
    new_customer_max_per_day: int = 1
    max_consecutive_days: int = 3
    urgent_max_per_7_days: int = 2


class WindowConfig(BaseModel):
    weekday: list[Window] = Field(default_factory=lambda: windows((10, 12), (20, 22)))
    weekend: list[Window] | None = None  # None: the weekday windows
    middle_east: list[Window] = Field(default_factory=lambda: windows((14, 16), (20, 22)))
    europe_americas: list[Window] = Field(default_factory=lambda: windows((7, 9), (10, 12), (20, 22)))
    middle_east_countries: list[str] = Field(default_factory=lambda: list(MIDDLE_EAST))
    quiet_start: int = 22  # quiet hours win over any window: nothing 22:00-08:00 local
    quiet_end: int = 8


class ThrottleConfig(BaseModel):
    campaign_rate_per_minute: int = 180
    number_throughput_per_second: float = 80
    inbound_headroom: float = Field(default=0.1, ge=0, lt=1)  # share kept free for replies
    block: int = 10  # tokens claimed per DynamoDB write at most
    lookahead_seconds: float = 1.0  # slots may be booked this far ahead
    # Slots are spaced 1% wider than the rate: exactly at the rate, R+1 sends fit in a second as
    # soon as one leaves a hair early; 1% absorbs 10 ms of scheduling and clock jitter.
    pace_margin: float = Field(default=0.01, ge=0, lt=0.5)
    lead_seconds: float = 0.1  # slots are booked this far ahead; the writes before the call fit in it
    stale_grace_seconds: float = 0.1  # a booked slot this far behind (clock + lead) is dropped, never burst
    max_wait_seconds: float = 8.0  # longer waits return the job to the queue
    shards: int = 0  # 0: one shard per 500 msg/s
    penalty_seconds_on_130429: float = 1.0


class RetryConfig(BaseModel):
    base_seconds: int = 2
    max_seconds: int = 900
    pair_delays: list[int] = Field(default_factory=lambda: [1, 4, 16, 64, 256])
    per_user_wait_hours: float = 24
    unknown_outcome_grace_minutes: float = 10


class AbConfig(BaseModel):
    sample_fraction: float = 0.10
    large_list: int = 2000
    large_sample_per_variant: int = 1000
    window_minutes: int = 60
    min_lead: float = 0.15
    rollout_hours: int = 24
    # Evidence: no winner while a variant has fewer delivered sends than this; the test waits for
    # them up to `evidence_wait_hours` after its window, then rolls out the default variant.
    min_delivered_per_variant: int = Field(default=100, ge=1)
    evidence_wait_hours: float = Field(default=12, ge=0)


class RetargetConfig(BaseModel):
    """Campaign follow-ups to those who did not read or click (campaigns.retarget)."""

    max_followups: int = Field(default=2, ge=0, le=5)  # rounds after the original campaign
    min_gap_hours: float = Field(default=24, ge=24, le=24 * 30)  # from each recipient's previous send


class SendingConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    caps: CapConfig = Field(default_factory=CapConfig)
    windows: WindowConfig = Field(default_factory=WindowConfig)
    throttle: ThrottleConfig = Field(default_factory=ThrottleConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    ab: AbConfig = Field(default_factory=AbConfig)
    retarget: RetargetConfig = Field(default_factory=RetargetConfig)
    pair_limit_seconds: float = 6
    service_window_hours: float = 24
    max_defer_hours: float = 72  # a cap that clears later than this refuses instead of deferring
    campaign_horizon_hours: float = 72  # deferred sends older than launch + this are "not reached"
    messaging_tier: int = 2000  # unique users per moving 24 h outside service windows
    # Meta delivers no marketing templates to US numbers (+1 with a US area code) since April 2025.
    marketing_blocked_regions: list[str] = Field(default_factory=lambda: ["US"])
    state_cache_seconds: float = 3
    dispatch_page: int = 500
    urgency_words: list[str] = Field(
        default_factory=lambda: ["only 24 hours", "last chance", "last 3", "hurry", "ends today", "today only"]
    )

"""Time passing: activity, lifecycle, frequency tiers and RFM, recomputed by the nightly pass.

Pure functions of a profile and `now` decide the "clock tags" a customer should hold; the pass
compares them with the clock tags it set last time (`clock_tags` on the profile) and writes only
the difference, each change logged. RFM scores are quintiles over the whole base: a first step
sketches each shard's values, the cut points are merged and stored once per run, then every page
scores its customers against the same cuts.

The orchestration (`start`, `stats_page`, `score_page`, `expiry_page`) takes its ports as
arguments; `engage.schedules.tagging` wires them for the scheduler.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from engage.core.ports import Queue
from engage.core.time import epoch, iso, parse_iso
from engage.tagging.catalog import TagChange
from engage.tagging.ports import PassStore
from engage.tagging.service import Tagging, apply_changes

SHARDS = 16
PAGE_SIZE = 1000
SKETCH_POINTS = 200
CLOCK_DIMENSIONS = ("activity", "lifecycle", "frequency", "rfm", "historical-stock")
VALUE_TIERS = ("value:high", "value:mid", "value:low")


class LifecycleConfig(BaseModel):
    """The playbook's defaults (days unless named otherwise); overridable in CONFIG/tagging under "lifecycle"."""

    active_days: int = 30
    read_attention_days: int = 14
    dormant_days: int = 90
    new_days: int = 60  # `lifecycle:new` leaves 60 days after the first purchase
    growth_from_days: int = 30
    growth_until_days: int = 90
    growth_high_read_days: int = 7  # growth-high: reads at least one message a week
    second_purchase_days: int = 90
    read_silence_days: int = 60
    churned_days: int = 180
    lost_days: int = 365
    audit_sleep_days: int = 180
    high_active_orders_30d: int = 3
    audit_months: tuple[int, ...] = (1, 4, 7, 10)  # quarterly audit on the 1st of these months
    value_high_share: float = 0.10
    value_mid_share: float = 0.30


def _t(value: Any) -> datetime | None:
    return parse_iso(value) if value else None


def _age(now: datetime, value: Any) -> timedelta | None:
    moment = _t(value)
    return now - moment if moment else None


def last_activity(p: Mapping[str, Any]) -> datetime | None:
    moments = [_t(p.get(k)) for k in ("last_interaction_at", "last_inbound_at", "last_order_at", "first_seen_at")]
    known = [m for m in moments if m]
    return max(known) if known else None


def activity_tag(p: Mapping[str, Any], now: datetime, cfg: LifecycleConfig) -> str:
    last = last_activity(p)
    quiet = now - last if last else timedelta(days=10_000)
    if quiet >= timedelta(days=cfg.dormant_days):
        return "activity:dormant"
    if quiet > timedelta(days=cfg.active_days):
        return "activity:needs-attention"
    read = _age(now, p.get("last_read_at"))
    if read is None:
        return "activity:active"
    if read > timedelta(days=cfg.read_attention_days):
        return "activity:needs-attention"
    return "activity:high"


def lifecycle_tags(p: Mapping[str, Any], now: datetime, cfg: LifecycleConfig) -> set[str]:
    first, last = _age(now, p.get("first_order_at")), _age(now, p.get("last_order_at"))
    if not p.get("orders") or first is None or last is None:
        return set()
    if last > timedelta(days=cfg.lost_days):
        return {"lifecycle:lost"}
    if last > timedelta(days=cfg.churned_days):
        return {"lifecycle:churned"}
    tags = set()
    read = _age(now, p.get("last_read_at"))
    if first <= timedelta(days=cfg.new_days):
        tags.add("lifecycle:new")
    if timedelta(days=cfg.growth_from_days) < first <= timedelta(days=cfg.growth_until_days):
        high = read is not None and read <= timedelta(days=cfg.growth_high_read_days)
        tags.add("lifecycle:growth-high" if high else "lifecycle:growth-low")
    single = int(p.get("orders") or 0) < 2 and first > timedelta(days=cfg.second_purchase_days)
    silent = read is not None and read > timedelta(days=cfg.read_silence_days)
    if single or silent:
        tags.add("lifecycle:pre-churn")
    return tags


def orders_within(p: Mapping[str, Any], now: datetime, days: int) -> int:
    start = now - timedelta(days=days)
    return sum(1 for t in p.get("order_times") or [] if start <= parse_iso(t) <= now)


def frequency_tag(p: Mapping[str, Any], now: datetime, cfg: LifecycleConfig) -> str | None:
    if not p.get("orders"):
        return None
    if p.get("order_times"):
        if orders_within(p, now, 30) >= cfg.high_active_orders_30d:
            return "frequency:high-active"
        counts = {days: orders_within(p, now, days) for days in (90, 365)}
    else:  # imported aggregates only: judge by the last order
        last = _age(now, p.get("last_order_at")) or timedelta(days=10_000)
        counts = {90: int(last <= timedelta(days=90)), 365: int(last <= timedelta(days=365))}
    if counts[90]:
        return "frequency:mid"
    if counts[365]:
        return "frequency:low"
    return "frequency:lost"


# ---------------------------------------------------------------------------- RFM
def rfm_values(p: Mapping[str, Any], now: datetime) -> tuple[float, float, float] | None:
    """(recency in days since the last order, frequency = orders, monetary = total spent) for buyers."""
    last = _age(now, p.get("last_order_at"))
    if not p.get("orders") or last is None:
        return None
    return last.total_seconds() / 86400, float(p.get("orders") or 0), float(p.get("total_spent") or 0)


def sketch(values: Iterable[float], points: int = SKETCH_POINTS) -> list[list[float]]:
    """A weighted summary [[value, weight], ...] of at most `points` entries (quantiles of the sorted values)."""
    ordered = sorted(values)
    if len(ordered) <= points:
        return [[v, 1.0] for v in ordered]
    step = len(ordered) / points
    return [[ordered[min(len(ordered) - 1, int((i + 0.5) * step))], step] for i in range(points)]


def quantiles(sketches: Iterable[list[list[float]]], qs: Iterable[float]) -> list[float]:
    merged = sorted((v, w) for s in sketches for v, w in s)
    if not merged:
        return [0.0 for _ in qs]
    total = sum(w for _, w in merged)
    cumulative, running = [], 0.0
    for _, w in merged:
        running += w
        cumulative.append(running)
    return [merged[min(len(merged) - 1, bisect.bisect_left(cumulative, q * total))][0] for q in qs]


class Cuts(BaseModel):
    """Quintile cut points (20/40/60/80%) of each measure, plus the monetary value-tier cuts."""

    recency: list[float] = [0.0, 0.0, 0.0, 0.0]
    frequency: list[float] = [0.0, 0.0, 0.0, 0.0]
    monetary: list[float] = [0.0, 0.0, 0.0, 0.0]
    value_mid: float = 0.0
    value_high: float = 0.0
    buyers: int = 0


QUINTILES = (0.2, 0.4, 0.6, 0.8)


def cut_points(stats: Iterable[Mapping[str, Any]], cfg: LifecycleConfig) -> Cuts:
    stats = list(stats)
    r = quantiles((s["recency"] for s in stats), QUINTILES)
    f = quantiles((s["frequency"] for s in stats), QUINTILES)
    m_qs = (*QUINTILES, 1 - cfg.value_high_share - cfg.value_mid_share, 1 - cfg.value_high_share)
    m = quantiles((s["monetary"] for s in stats), m_qs)
    return Cuts(
        recency=r, frequency=f, monetary=m[:4], value_mid=m[4], value_high=m[5], buyers=sum(s["buyers"] for s in stats)
    )


def score_high(value: float, cuts: list[float]) -> int:
    """1-5: how many cut points the value is above (ties go down: the base's most common value scores low)."""
    return 1 + sum(1 for c in cuts if value > c)


def rfm(p: Mapping[str, Any], now: datetime, cuts: Cuts) -> dict[str, Any] | None:
    values = rfm_values(p, now)
    if values is None:
        return None
    days, orders, spent = values
    r = 5 - sum(1 for c in cuts.recency if days > c)  # fewer days since the last order scores higher
    f, m = score_high(orders, cuts.frequency), score_high(spent, cuts.monetary)
    return {"r": r, "f": f, "m": m, "score": f"{r}{f}{m}"}


def strategy_group(scores: Mapping[str, Any] | None, p: Mapping[str, Any], now: datetime, cfg: LifecycleConfig) -> str:
    if scores is None:
        last = last_activity(p)
        engaged = last is not None and now - last < timedelta(days=cfg.dormant_days)
        return "rfm:potential" if engaged else "rfm:dormant"
    if scores["r"] >= 4 and scores["f"] >= 4 and scores["m"] >= 4:
        return "rfm:vip"
    return "rfm:active" if scores["r"] >= 3 else "rfm:dormant"


def value_tier(p: Mapping[str, Any], cuts: Cuts) -> str | None:
    if not p.get("orders"):
        return None
    spent = float(p.get("total_spent") or 0)
    if cuts.value_high and spent >= cuts.value_high:
        return "value:high"
    return "value:mid" if cuts.value_mid and spent >= cuts.value_mid else "value:low"


def is_audit_day(now: datetime, cfg: LifecycleConfig) -> bool:
    return now.day == 1 and now.month in cfg.audit_months


def sleeping(p: Mapping[str, Any], now: datetime, cfg: LifecycleConfig) -> bool:
    last = last_activity(p)
    return last is None or now - last >= timedelta(days=cfg.audit_sleep_days)


def desired_clock_tags(
    p: Mapping[str, Any],
    now: datetime,
    cfg: LifecycleConfig,
    cuts: Cuts,
    *,
    audit: bool,
    holds_other_tags: Callable[[], bool],
) -> tuple[set[str], dict[str, Any] | None]:
    """The clock tags this customer should hold now, and their RFM scores (None for non-buyers)."""
    scores = rfm(p, now, cuts)
    tags = {activity_tag(p, now, cfg), strategy_group(scores, p, now, cfg)} | lifecycle_tags(p, now, cfg)
    for optional in (frequency_tag(p, now, cfg), value_tier(p, cuts)):
        if optional:
            tags.add(optional)
    stock = "historical-stock:awaiting-activation"
    if sleeping(p, now, cfg) and (stock in (p.get("clock_tags") or []) or (audit and holds_other_tags())):
        tags.add(stock)
    if scores is not None:
        scores["group"] = strategy_group(scores, p, now, cfg).split(":", 1)[1]
    return tags, scores


def is_kept_tag(name: str) -> bool:
    """A tag the audit looks for: not one the pass computes itself, not the purchase ledger."""
    dimension = name.split(":", 1)[0]
    return dimension not in (*CLOCK_DIMENSIONS, "bought") and name not in VALUE_TIERS


def clock_changes(customer_id: str, held: set[str], wanted: set[str], run_id: str, now: datetime) -> list[TagChange]:
    def change(tag: str, action: str, reason: str) -> TagChange:
        return TagChange(
            customer_id=customer_id,
            tag=tag,
            action="add" if action == "add" else "remove",
            source="system",
            reason=reason,
            event_id=f"pass-{run_id}",
            at=iso(now),
        )

    return [change(t, "remove", f"nightly pass {run_id}: no longer applies") for t in sorted(held - wanted)] + [
        change(t, "add", f"nightly pass {run_id}") for t in sorted(wanted - held)
    ]


# ---------------------------------------------------------------------------- orchestration


def run_id_of(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def start(store: PassStore, queue: Queue, payload: Mapping[str, Any], now: datetime, cfg: LifecycleConfig) -> dict:
    """The nightly schedule: one page per customer shard; each sweeps the shard's expired tags, then
    sketches R, F and M (step 1)."""
    run_id = str(payload.get("run") or run_id_of(now))
    audit = bool(payload.get("audit")) or is_audit_day(now, cfg)
    store.start_run(run_id, {"now": iso(now), "audit": audit, "started_at": iso(now)})
    queue.send(
        [{"job": "lifecycle-stats", "run": run_id, "now": iso(now), "shard": k, "page": 0} for k in range(SHARDS)]
    )
    return {"run": run_id, "audit": audit, "pages": SHARDS}


def stats_page(
    store: PassStore, t: Tagging, queue: Queue, payload: Mapping[str, Any], now: datetime, cfg: LifecycleConfig
) -> dict:
    """Step 1: sketch one page of a shard's R, F and M; the last shard to finish computes the cuts.
    The shard's first page sweeps its expired tags first (and queues a sweep page if there are many)."""
    run_id, shard, page = str(payload["run"]), int(payload["shard"]), int(payload.get("page", 0))
    if page == 0:
        expiry_page(store, t, queue, {"job": "lifecycle-expiry", "run": run_id, "shard": shard}, now)
    profiles, cursor = store.profiles(shard, payload.get("cursor"), PAGE_SIZE)
    values = [v for v in (rfm_values(p, now) for p in profiles) if v]
    stats = {
        "recency": sketch(v[0] for v in values),
        "frequency": sketch(v[1] for v in values),
        "monetary": sketch(v[2] for v in values),
        "buyers": len(values),
        "customers": len(profiles),
    }
    store.put_stats(run_id, shard, page, stats)
    if cursor:
        queue.send([{**payload, "page": page + 1, "cursor": cursor}])
        return {"run": run_id, "shard": shard, "page": page, "customers": len(profiles), "more": True}
    done = store.shard_done(run_id, shard)
    if done >= SHARDS:
        release_scoring(store, queue, run_id, now, cfg)
    return {"run": run_id, "shard": shard, "page": page, "customers": len(profiles), "shards_done": done}


def release_scoring(store: PassStore, queue: Queue, run_id: str, now: datetime, cfg: LifecycleConfig) -> None:
    """Stores the run's cut points once and queues one scoring page per shard (restartable)."""
    run = store.get_run(run_id) or {}
    if not run.get("cuts"):
        store.mark_run(run_id, {"cuts": cut_points(store.all_stats(run_id), cfg).model_dump()})
    if run.get("scoring_queued"):
        return
    queue.send([{"job": "lifecycle-page", "run": run_id, "now": iso(now), "shard": k} for k in range(SHARDS)])
    store.mark_run(run_id, {"scoring_queued": True})


def score_page(
    store: PassStore, t: Tagging, queue: Queue, payload: Mapping[str, Any], now: datetime, cfg: LifecycleConfig
) -> dict:
    """Step 2: one page of a shard: recompute clock tags and RFM, write what changed."""
    run_id, shard = str(payload["run"]), int(payload["shard"])
    run = store.get_run(run_id) or {}
    cuts, audit = Cuts.model_validate(run.get("cuts") or {}), bool(run.get("audit"))
    profiles, cursor = store.profiles(shard, payload.get("cursor"), PAGE_SIZE)
    decided = [decide_customer(t, p, now, cfg, cuts, run_id, audit) for p in profiles]
    changes = [c for _, _, cs in decided for c in cs]
    if changes:  # memberships and log first: a crash before the profiles are saved redoes the same writes
        apply_changes(t, changes, now, batch=True)
    for p, (wanted, scores, cs) in zip(profiles, decided, strict=True):
        if cs or scores != p.get("rfm"):
            store.save_profile(p["id"], sorted(wanted), scores)
    changed = len(changes)
    if cursor:
        queue.send([{**payload, "cursor": cursor}])
    return {"run": run_id, "shard": shard, "customers": len(profiles), "changed": changed, "more": bool(cursor)}


def decide_customer(
    t: Tagging, p: dict[str, Any], now: datetime, cfg: LifecycleConfig, cuts: Cuts, run_id: str, audit: bool
) -> tuple[set[str], dict[str, Any] | None, list[TagChange]]:
    """(clock tags wanted, RFM scores, changes to make) for one customer."""
    customer_id = p["id"]
    held_clock = set(p.get("clock_tags") or [])

    def holds_other_tags() -> bool:
        return any(is_kept_tag(m["name"]) for m in t.memberships.of_customer(customer_id))

    wanted, scores = desired_clock_tags(p, now, cfg, cuts, audit=audit, holds_other_tags=holds_other_tags)
    changes = clock_changes(customer_id, held_clock, wanted, run_id, now)
    if audit and "historical-stock:awaiting-activation" in wanted - held_clock:
        vip = t.memberships.of_customer(customer_id)
        if any(m["name"] == "value:vip" for m in vip):
            reason = f"quarterly audit: no interaction for {cfg.audit_sleep_days} days"
            changes.append(
                TagChange(
                    customer_id=customer_id,
                    tag="value:vip",
                    action="remove",
                    source="system",
                    reason=reason,
                    event_id=f"pass-{run_id}",
                    at=iso(now),
                )
            )
    return wanted, scores, changes


def expiry_page(store: PassStore, t: Tagging, queue: Queue, payload: Mapping[str, Any], now: datetime) -> dict:
    """Removes a shard's memberships whose `expires_at` has passed, each logged as expired; continues while
    more are due (a removed membership leaves the index, so the next page starts at the oldest left)."""
    shard = int(payload["shard"])
    changes = [
        TagChange(
            customer_id=m["customer_id"],
            tag=m["name"],
            action="remove",
            change="expired",
            source="system",
            reason=f"expired at {iso(datetime.fromtimestamp(int(m['expires_at']), now.tzinfo))}",
            event_id=f"expired-{int(m['expires_at'])}",
            at=iso(now),
        )
        for m in store.expiring(shard, epoch(now), PAGE_SIZE)
    ]
    applied = t.writer.apply(changes)
    if len(changes) >= PAGE_SIZE and applied:
        queue.send([dict(payload)])
    return {"shard": shard, "expired": len(applied)}

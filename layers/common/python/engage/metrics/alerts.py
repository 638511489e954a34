"""Metric alerts: evaluated hourly, opened once, published once, closed when the condition clears.

Rules (the playbook's, thresholds in `MetricsConfig.alerts`):
- a campaign's opt-out rate above 7% (of delivered);
- a campaign's read rate under 20% (of delivered), with the advice to halve the volume; judged
  only once the campaign is `read_min_age_hours` old, because fresh sends are not read yet;
- a campaign's delivery rate under 95% (of sent): a poor list;
- a segment's weekly click rate (clicked / delivered, by cohort week) falling by more than 20%
  two weeks in a row.
No rule judges a denominator under `min_sample` (default 50): five sends are not a trend. The
opt-out rule is judged earlier, from `opt_out_min_sample` deliveries (default 20), and opens only
with at least `opt_out_min_count` opt-outs (default 2), so a small shop hears of it too.

An alert is keyed `<kind>#<subject>`. Opening is a conditional put on that key, so while it is open
the same finding is not stored or published again; a later clear evaluation closes it, and a
campaign with no activity for `active_days` closes its alerts (nothing left to act on).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from engage.core.ports import Alerts
from engage.core.time import iso
from engage.metrics.counters import add_up
from engage.metrics.funnel import AlertThresholds
from engage.metrics.ports import AlertStore


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # "campaign:<id>" or "segment:<id>"
    value: float
    threshold: float
    sample: int
    title: str
    message: str
    advice: str

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.subject}"


# key -> a Finding (condition holds), or None (evaluated and clear). Absent: not judged this run.
Findings = dict[str, Finding | None]


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4)


def opt_out_findings(campaign_id: str, counts: Mapping[str, int], limits: AlertThresholds) -> Findings:
    """Judged from `opt_out_min_sample` deliveries; opens with at least `opt_out_min_count` opt-outs."""
    subject = f"campaign:{campaign_id}"
    delivered, opted_out = counts.get("delivered", 0), counts.get("opted_out", 0)
    opt_out = _ratio(opted_out, delivered)
    bad = opt_out > limits.opt_out_rate_max and opted_out >= limits.opt_out_min_count
    finding = Finding(
        "opt_out_rate",
        subject,
        opt_out,
        limits.opt_out_rate_max,
        delivered,
        f"Opt-outs at {opt_out:.1%} for campaign {campaign_id}",
        f"{opted_out} of {delivered} recipients opted out (alert above {limits.opt_out_rate_max:.0%}).",
        "Pause and review targeting, frequency and the offer; blocks hurt the number's quality rating.",
    )
    return {f"opt_out_rate#{subject}": finding if bad else None}


def campaign_findings(
    campaign_id: str, counts: Mapping[str, int], age_hours: float, limits: AlertThresholds
) -> Findings:
    subject = f"campaign:{campaign_id}"
    sent, delivered = counts.get("sent", 0), counts.get("delivered", 0)
    found: Findings = {}
    if sent >= limits.min_sample:
        rate = _ratio(delivered, sent)
        bad = rate < limits.delivery_rate_min
        found[f"delivery_rate#{subject}"] = (
            Finding(
                "delivery_rate",
                subject,
                rate,
                limits.delivery_rate_min,
                sent,
                f"Poor list: delivery {rate:.1%} for campaign {campaign_id}",
                f"Only {delivered} of {sent} messages were delivered (alert under {limits.delivery_rate_min:.0%}).",
                "Clean the list: drop undeliverable numbers and re-confirm old opt-ins before sending again.",
            )
            if bad
            else None
        )
    if delivered >= limits.opt_out_min_sample:
        found.update(opt_out_findings(campaign_id, counts, limits))
    if delivered < limits.min_sample:
        return found
    if age_hours >= limits.read_min_age_hours:
        read = _ratio(counts.get("read", 0), delivered)
        found[f"read_rate#{subject}"] = (
            Finding(
                "read_rate",
                subject,
                read,
                limits.read_rate_min,
                delivered,
                f"Read rate {read:.1%} for campaign {campaign_id}",
                f"{counts.get('read', 0)} of {delivered} delivered messages were read (alert under "
                f"{limits.read_rate_min:.0%}).",
                "Halve the volume: send to fewer, more engaged customers until the read rate recovers.",
            )
            if read < limits.read_rate_min
            else None
        )
    return found


def weekly_segment_counts(rows: Sequence[Mapping[str, Any]], today: date) -> dict[str, list[dict[str, int]]]:
    """Per segment, the counts of the three complete weeks before today, oldest first."""
    weeks: dict[str, list[list[Mapping[str, Any]]]] = {}
    for row in rows:
        segment = str(row.get("segment_id", "-"))
        if segment == "-":
            continue
        age = (today - date.fromisoformat(str(row["day"]))).days  # 1..21
        index = 2 - (age - 1) // 7
        if 0 <= index <= 2:
            weeks.setdefault(segment, [[], [], []])[index].append(row)
    return {segment: [add_up(week) for week in parts] for segment, parts in weeks.items()}


def segment_findings(segment_id: str, weeks: Sequence[Mapping[str, int]], limits: AlertThresholds) -> Findings:
    """Clicked/delivered per week; an alert when it fell by more than `click_drop_min` twice running."""
    if any(week.get("delivered", 0) < limits.min_sample for week in weeks):
        return {}
    rates = [_ratio(week.get("clicked", 0), week["delivered"]) for week in weeks]
    subject = f"segment:{segment_id}"
    key = f"segment_click_drop#{subject}"
    if rates[0] <= 0 or rates[1] <= 0:
        return {key: None}
    drops = [round(1 - rates[1] / rates[0], 4), round(1 - rates[2] / rates[1], 4)]
    if min(drops) <= limits.click_drop_min:
        return {key: None}
    return {
        key: Finding(
            "segment_click_drop",
            subject,
            rates[2],
            limits.click_drop_min,
            weeks[2]["delivered"],
            f"Clicks falling in segment {segment_id}",
            f"Weekly click rate {rates[0]:.1%} -> {rates[1]:.1%} -> {rates[2]:.1%} "
            f"(falls of {drops[0]:.0%} and {drops[1]:.0%}; alert above {limits.click_drop_min:.0%} twice running).",
            "Refresh the content and offers for this segment, or send to it less often.",
        )
    }


def alert_document(finding: Finding, now: datetime) -> dict[str, Any]:
    return {
        "id": "al_" + uuid.uuid4().hex[:16],
        "key": finding.key,
        "status": "open",
        "opened_at": iso(now),
        **asdict(finding),
    }


def reconcile(
    findings: Findings,
    open_alerts: dict[str, dict[str, Any]],
    active_subjects: set[str],
    *,
    store: AlertStore,
    publisher: Alerts,
    now: datetime,
) -> dict[str, list[str]]:
    """Opens (and publishes) new findings, closes cleared or inactive ones. Returns keys by outcome."""
    outcome: dict[str, list[str]] = {"opened": [], "still_open": [], "closed": []}
    for key, finding in sorted(findings.items()):
        if finding is None:
            continue
        if key in open_alerts:
            outcome["still_open"].append(key)
            if not open_alerts[key].get("published_at"):  # a publish failed last time: retry it
                publish(open_alerts[key], store, publisher, now)
            continue
        document = alert_document(finding, now)
        if store.open(document):
            outcome["opened"].append(key)
            publish(document, store, publisher, now)
    for key, alert in sorted(open_alerts.items()):
        cleared = key in findings and findings[key] is None
        inactive = alert.get("subject") not in active_subjects
        if cleared or inactive:
            store.close(key, now, "cleared" if cleared else "inactive")
            outcome["closed"].append(key)
    return outcome


def publish(alert: dict[str, Any], store: AlertStore, publisher: Alerts, now: datetime) -> None:
    publisher.publish(alert)
    store.mark_published(alert["key"], now)


def cohort_days(now: datetime, count: int, *, skip_today: bool = False) -> list[str]:
    start = 1 if skip_today else 0
    return [(now.date() - timedelta(days=i)).isoformat() for i in range(start, start + count)]

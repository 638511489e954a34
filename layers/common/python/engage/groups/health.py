"""The groups' health and the early warning.

Per group and day: the activity rate (members who wrote or reacted that day over members),
healthy at 40% or more; the click rate on the offer links sent that day (human clicks over
members, at most 100%: a group post's link is shared, so unique clickers cannot be told apart),
healthy at 25% or more; joins and leaves. A circle's figures are the sums over its groups. A group
below either range on each of the last 7 recorded days raises one alert for that stretch.

Early warning: a member silent for 14 days (no message or reaction since joining or since the last
activity), or who left, gets a personal reactivation message under the 1:1 sending rules (a send
job: consent, caps, windows and quiet hours apply; the sender defers, never drops), at most once
per cooldown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engage.core.time import iso
from engage.delivery.jobs import SendJob, TemplateMessage
from engage.groups.models import Circle, Group, GroupsConfig
from engage.groups.ports import GroupsPorts


@dataclass(frozen=True)
class DayHealth:
    members: int
    active: int
    clicks: int
    offers: int
    joins: int
    leaves: int

    @property
    def activity_rate(self) -> float:
        return round(self.active / self.members, 4) if self.members else 0.0

    @property
    def click_rate(self) -> float | None:
        """None on a day without an offer link (nothing to judge)."""
        if not self.offers or not self.members:
            return None
        return round(min(1.0, self.clicks / (self.members * self.offers)), 4)

    def healthy(self, config: GroupsConfig) -> bool:
        if self.members == 0:
            return True
        clicks_ok = self.click_rate is None or self.click_rate >= config.healthy_click_rate
        return self.activity_rate >= config.healthy_activity_rate and clicks_ok

    def as_dict(self, config: GroupsConfig) -> dict[str, Any]:
        return {
            "members": self.members,
            "active": self.active,
            "activity_rate": self.activity_rate,
            "offer_clicks": self.clicks,
            "offers": self.offers,
            "click_rate": self.click_rate,
            "joins": self.joins,
            "leaves": self.leaves,
            "healthy": self.healthy(config),
        }


def group_day(ports: GroupsPorts, group: Group, day: str) -> DayHealth:
    members = [m for m in ports.store.members(group.id) if m.status == "joined"]
    stats = ports.store.day_stats(group.id, day)
    offers = [
        p for p in ports.store.posts(group.id) if p.kind == "offer" and p.status == "sent" and p.send_at[:10] == day
    ]
    clicks = sum(ports.store.link_clicks(p.link_code) for p in offers if p.link_code)
    return DayHealth(
        members=len(members),
        active=stats.get("active", 0),
        clicks=clicks,
        offers=len(offers),
        joins=stats.get("joins", 0),
        leaves=stats.get("leaves", 0),
    )


def circle_day(ports: GroupsPorts, circle: Circle, day: str) -> dict[str, Any]:
    """A circle's day: its groups' figures summed (the rates over all members of the circle)."""
    config = ports.store.config()
    groups = [g for g in ports.store.groups(circle.id) if g.status != "closed"]
    per_group = {g.id: group_day(ports, g, day) for g in groups}
    total = DayHealth(
        members=sum(d.members for d in per_group.values()),
        active=sum(d.active for d in per_group.values()),
        clicks=sum(d.clicks for d in per_group.values()),
        offers=sum(d.offers for d in per_group.values()),
        joins=sum(d.joins for d in per_group.values()),
        leaves=sum(d.leaves for d in per_group.values()),
    )
    click_rate = None
    reach = sum(d.members * d.offers for d in per_group.values())
    if reach:
        click_rate = round(min(1.0, total.clicks / reach), 4)
    out = total.as_dict(config)
    out["click_rate"] = click_rate
    out["groups"] = {gid: d.as_dict(config) for gid, d in per_group.items()}
    return out


def daily_health(ports: GroupsPorts, now: datetime) -> dict[str, int]:
    """The nightly pass over yesterday: records each active group's day, alerts on a week below range,
    and queues the early-warning messages."""
    config = ports.store.config()
    day = iso(now - timedelta(days=1))[:10]
    summary = {"groups": 0, "alerts": 0, "warnings": 0}
    for group in ports.store.groups():
        if group.status != "active":
            continue
        summary["groups"] += 1
        record = group_day(ports, group, day).as_dict(config)
        ports.store.put_health(group.id, day, {**record, "day": day})
        stretch = unhealthy_stretch(ports.store.health(group.id, 90))
        if len(stretch) >= config.unhealthy_days_for_alert and ports.alerts is not None:
            first = min(str(r.get("day")) for r in stretch)  # one alert per stretch, keyed on its start
            alert = {
                "kind": "group_unhealthy",
                "group_id": group.id,
                "circle_id": group.circle_id,
                "since": first,
                "activity_rate": record["activity_rate"],
                "click_rate": record["click_rate"],
            }
            if ports.store.alert_once(group.id, f"unhealthy#{first}", alert):
                ports.alerts.publish(alert)
                summary["alerts"] += 1
        summary["warnings"] += early_warning(ports, group, now, config)
    return summary


def unhealthy_stretch(newest_first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The unbroken run of unhealthy days ending with the newest record."""
    stretch: list[dict[str, Any]] = []
    for record in newest_first:
        if record.get("healthy"):
            break
        stretch.append(record)
    return stretch


def early_warning(ports: GroupsPorts, group: Group, now: datetime, config: GroupsConfig) -> int:
    circle = ports.store.get_circle(group.circle_id)
    if circle is None:
        return 0
    queued = 0
    silent_before = iso(now - timedelta(days=config.silent_days))
    cooldown_before = iso(now - timedelta(days=config.warning_cooldown_days))
    for member in ports.store.members(group.id):
        if member.customer_id.startswith("wa:") or (member.warned_at and member.warned_at > cooldown_before):
            continue
        last = member.last_active_at or member.joined_at
        silent = member.status == "joined" and last is not None and last <= silent_before
        left = member.status == "left" and member.left_at is not None and member.left_at > cooldown_before
        if not (silent or left):
            continue
        reason = "silent" if silent else "left"
        job = SendJob(
            customer_id=member.customer_id,
            send_key=f"group-winback:{group.id}:{iso(now)[:10]}",
            category="marketing",
            message=TemplateMessage(
                template=config.reactivation_template,
                language=circle.invite_language,
                variables={"body": {"circle": circle.name}},
            ),
            campaign_id=f"group:{circle.id}",  # counted in the metrics like a campaign's sends
            reason=f"group:{circle.id}:{reason}",
        )
        ports.queue.send([job.model_dump(mode="json")])
        ports.store.put_member(member.model_copy(update={"warned_at": iso(now)}))
        queued += 1
    return queued

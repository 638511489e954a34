"""Campaigns and their audience snapshot, the sending config, the messaging-tier ledger.

CAMPAIGN#<id> / CAMPAIGN   gsi2 = CAMPAIGNS / <created_at>#<id> (all, newest last)
                           gsi1 = CAMPAIGNS#ACTIVE / <id> while scheduled, running or paused (sparse)
CONFIG / sending           the SendingConfig document
TIER / HOUR#<hour>         recipients planned in that hour (the messaging-limit tier's ledger)
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from engage.adapters.dynamo.keys import campaign_pk, tier_sk
from engage.adapters.dynamo.table import Table, Update
from engage.campaigns.campaign import ACTIVE, Campaign
from engage.delivery.config import SendingConfig

CAMPAIGN_SK = "CAMPAIGN"


def campaign_item(campaign: Campaign) -> dict[str, Any]:
    body = campaign.model_dump(mode="json", exclude_none=True)
    body.update(pk=campaign_pk(campaign.id), sk=CAMPAIGN_SK, type="campaign")
    body["gsi2pk"], body["gsi2sk"] = "CAMPAIGNS", f"{campaign.created_at}#{campaign.id}"
    if campaign.status in ACTIVE:
        body["gsi1pk"], body["gsi1sk"] = "CAMPAIGNS#ACTIVE", campaign.id
    return body


def to_campaign(item: dict[str, Any] | None) -> Campaign | None:
    if not item:
        return None
    return Campaign.model_validate(
        {k: v for k, v in item.items() if k not in ("pk", "sk", "type") and not k.startswith("gsi")}
    )


class CampaignRepository:
    def __init__(self, table: Table):
        self.table = table

    def get(self, campaign_id: str) -> Campaign | None:
        return to_campaign(self.table.get(campaign_pk(campaign_id), CAMPAIGN_SK))

    def save(self, campaign: Campaign, *, expect_status: str | None = None) -> bool:
        """Writes the campaign; with `expect_status`, only if the stored one still has that status."""
        if expect_status is None:
            return self.table.put(campaign_item(campaign))
        return self.table.put(
            campaign_item(campaign), condition="#s = :s", names={"#s": "status"}, values={":s": expect_status}
        )

    def delete(self, campaign_id: str, *, expect_status: str) -> bool:
        """Deletes the campaign only if it still has `expect_status`; False when it has not (or is gone)."""
        return self.table.delete(
            campaign_pk(campaign_id),
            CAMPAIGN_SK,
            condition="#s = :s",
            names={"#s": "status"},
            values={":s": expect_status},
        )

    def active(self) -> list[Campaign]:
        return [c for c in (to_campaign(i) for i in self.table.query("CAMPAIGNS#ACTIVE", index="gsi1")) if c]

    def all(self) -> list[Campaign]:
        return [c for c in (to_campaign(i) for i in self.table.query("CAMPAIGNS", index="gsi2")) if c]


class ConfigRepository:
    """The sending config, read at most every `max_age` seconds per container."""

    def __init__(self, table: Table, max_age: float = 60):
        self.table = table
        self.max_age = max_age
        self._cached: tuple[float, SendingConfig] | None = None

    def sending(self) -> SendingConfig:
        if self._cached and time.monotonic() - self._cached[0] < self.max_age:
            return self._cached[1]
        item = self.table.get("CONFIG", "sending", consistent=False) or {}
        config = SendingConfig.model_validate(item.get("document") or {})
        self._cached = (time.monotonic(), config)
        return config

    def forget(self) -> None:
        """The next read goes to the table (after a change through /v1/settings)."""
        self._cached = None

    def put_sending(self, document: dict[str, Any]) -> SendingConfig:
        config = SendingConfig.model_validate(document)
        self.table.put({"pk": "CONFIG", "sk": "sending", "type": "config", "document": config.model_dump(mode="json")})
        self._cached = None
        return config


class TierLedger:
    """Business-initiated recipients planned per hour, summed over the moving 24 hours."""

    def __init__(self, table: Table):
        self.table = table

    def used(self, now: datetime) -> tuple[int, str | None]:
        """(recipients planned in the last 24 h, the hour whose roll-off frees room first)."""
        start = (now - timedelta(hours=23)).strftime("%Y-%m-%dT%H")
        rows = list(self.table.query("TIER", sk_between=(tier_sk(start), tier_sk(now.strftime("%Y-%m-%dT%H")))))
        oldest = rows[0]["sk"].removeprefix("HOUR#") if rows else None
        return sum(int(r.get("count", 0)) for r in rows), oldest

    def add(self, now: datetime, count: int) -> None:
        if count:
            self.table.update("TIER", tier_sk(now.strftime("%Y-%m-%dT%H")), Update().add(count=count))

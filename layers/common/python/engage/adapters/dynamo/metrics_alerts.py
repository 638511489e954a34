"""Alerts in the single table.

ALERT#OPEN / <kind>#<subject>          present while that alert is open (the "not repeated" key)
ALERT#LOG  / <opened_at>#<alert id>    every alert ever opened, with status, closed_at, published_at
Opening writes both in one transaction, conditional on the open key being free.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage.adapters.dynamo.keys import ALERT_LOG_PK, ALERT_OPEN_PK
from engage.adapters.dynamo.table import Table, Update, from_dynamo
from engage.core.time import iso


def log_sk(alert: dict[str, Any]) -> str:
    return f"{alert['opened_at']}#{alert['id']}"


class AlertRepository:
    def __init__(self, table: Table):
        self.table = table

    def open_alerts(self) -> dict[str, dict[str, Any]]:
        return {item["key"]: item for item in self.table.query(ALERT_OPEN_PK, consistent=True)}

    def open(self, alert: dict[str, Any]) -> bool:
        body = {**alert, "type": "alert", "log_sk": log_sk(alert)}
        return self.table.transact(
            [
                {
                    "Put": {
                        "Item": {"pk": ALERT_OPEN_PK, "sk": alert["key"], **body},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"Item": {"pk": ALERT_LOG_PK, "sk": log_sk(alert), **body}}},
            ]
        )

    def mark_published(self, key: str, at: datetime) -> None:
        current = self.table.get(ALERT_OPEN_PK, key)
        if not current:
            return
        stamp = Update().set(published_at=iso(at))
        self.table.update(ALERT_OPEN_PK, key, stamp, condition="attribute_exists(pk)")
        self.table.update(ALERT_LOG_PK, current["log_sk"], Update().set(published_at=iso(at)))

    def close(self, key: str, now: datetime, reason: str) -> dict[str, Any] | None:
        response = self.table.client.delete_item(
            TableName=self.table.name, Key={"pk": ALERT_OPEN_PK, "sk": key}, ReturnValues="ALL_OLD"
        )
        old = response.get("Attributes")
        if not old:
            return None
        alert = from_dynamo(old)
        update = Update().set(status="closed", closed_at=iso(now), close_reason=reason)
        self.table.update(ALERT_LOG_PK, alert["log_sk"], update)
        return alert

    def history(self, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; `status` is "open" or "closed" (None: both)."""
        found = []
        for item in self.table.query(ALERT_LOG_PK, forward=False):
            if status and item.get("status") != status:
                continue
            found.append({k: v for k, v in item.items() if k not in ("pk", "sk", "type", "log_sk")})
            if len(found) >= limit:
                break
        return found

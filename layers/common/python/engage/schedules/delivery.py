"""Scheduled entry points of the sending area (registered in engage.schedules.JOBS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.campaigns import service as campaign_flow


def release_deferred(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return campaign_flow.release_deferred(wiring.campaigns.flow_ports(), now)


def campaign_tick(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return campaign_flow.campaign_tick(wiring.campaigns.flow_ports(), now)

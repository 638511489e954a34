"""Background work of the audience area: `segment-export` pages on the PassQueue (engage.schedules.PAGES)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.audience.exports import run_export


def segment_export(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return run_export(wiring.audience.export_ports(), str(payload.get("export_id", "")), now)

"""Scheduled work of the journeys area.

`journey-sweep` (every minute): installs the default journeys the first time (disabled; one read a
minute after that), then wakes every run due by now from the 16 shards of the due index: waits that
ended, event waits that timed out, paused runs to look at again, runs a crashed worker left mid-way.
`journey-triggers` (daily): segment-entry journeys enter the segment's members; attribute-age
journeys fan out `journey-age-page` pages over the customers index (PassQueue).
`conversions-post` (every 5 minutes): posts the due conversions of the outbox to Meta's Conversions API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.journeys import conversions, service


def journey_sweep(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    ports = wiring.journeys.ports()
    installed = service.install_defaults(ports, now)
    return service.sweep(ports, now) | {"installed": installed}


def journey_triggers(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return service.daily_triggers(
        wiring.journeys.ports(), wiring.journeys.base(), wiring.journeys.segment_members(), now
    )


def journey_age_page(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return service.age_page(wiring.journeys.ports(), wiring.journeys.base(), payload, now)


def conversions_post(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return conversions.post_due(wiring.journeys.conversions_outbox(), wiring.journeys.conversions_api(), now)

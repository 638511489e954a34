"""Scheduled work of the segments area.

`segment-sizes` (registered in engage.schedules.JOBS): counts every saved segment, stores its size
for the day (`SEG#<id> / SIZE#<day>`), refreshes `last_count` and the planner's base-size estimate.
Run it nightly: on its own schedule (`{"schedule": "segment-sizes", "now": ...}`), or from the
nightly lifecycle pass after it has written the lifecycle/RFM tags, by calling
`segment_sizes({}, now)` (so the sizes reflect that night's tags).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.segments.service import record_sizes


def segment_sizes(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return record_sizes(
        store=wiring.segments.repository(),
        reader=wiring.segments.audience(),
        catalog=wiring.segments.tag_catalog(),
        now=now,
    )

"""Jobs of the audience capability: putting customers written before the search indexes into them, and
`segment-export` pages on the PassQueue (engage.schedules.PAGES)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engage import wiring
from engage.audience.exports import run_export

PAGE = 500


def search_index(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Run once after deploying customer search (and any time again: it only writes what is missing):
    one page per customer shard on the PassQueue, each queueing the next."""
    shards = wiring.audience.index_repair().shards
    wiring.tagging.pass_queue().send([{"job": "customer-search-index-page", "shard": k} for k in range(shards)])
    return {"pages": shards}


def search_index_page(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    shard = int(payload["shard"])
    written, cursor = wiring.audience.index_repair().repair_page(shard, payload.get("cursor"), PAGE)
    if cursor:
        wiring.tagging.pass_queue().send([{"job": "customer-search-index-page", "shard": shard, "cursor": cursor}])
    return {"shard": shard, "written": written, "more": cursor is not None}


def segment_export(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return run_export(wiring.audience.export_ports(), str(payload.get("export_id", "")), now)

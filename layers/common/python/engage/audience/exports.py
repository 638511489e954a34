"""Segment exports: the members of a saved segment, evaluated now, written as CSV to the bucket in the
background (a page on the PassQueue), then offered as a presigned download link.

The file is written as it is produced (profiles read 100 at a time, the CSV spooled), so an export
of a large segment does not hold the segment's profiles in memory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engage.audience.ports import ExportStore, FileStore
from engage.core.errors import NotFound
from engage.core.ports import Queue
from engage.core.time import iso
from engage.customers.profiles import Customer
from engage.segments.evaluator import evaluate
from engage.segments.ports import AudienceReader, SegmentStore, TagNames
from engage.segments.service import parse_rule

EXPORT_JOB = "segment-export"
PROFILE_BATCH = 100
DOWNLOAD_URL_SECONDS = 3600
COLUMNS = [
    "customer_id",
    "phone",
    "name",
    "marketing_consent",
    "country",
    "orders",
    "total_spent",
    "last_interaction_at",
]


@dataclass
class ExportPorts:
    exports: ExportStore
    files: FileStore
    segments: SegmentStore
    reader: AudienceReader
    tag_names: TagNames
    queue: Queue


def export_key(export_id: str) -> str:
    return f"exports/{export_id}.csv"


def start_export(ports: ExportPorts, segment_id: str, *, by: str, now: datetime) -> dict[str, Any]:
    segment = ports.segments.get(segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id!r}", code="segment_not_found")
    export = {
        "id": "exp_" + uuid.uuid4().hex[:20],
        "segment_id": segment_id,
        "segment_name": segment.get("name"),
        "state": "queued",
        "created_at": iso(now),
        "by": by,
    }
    ports.exports.create(export)
    ports.queue.send([{"job": EXPORT_JOB, "export_id": export["id"]}])
    return export


def run_export(ports: ExportPorts, export_id: str, now: datetime) -> dict[str, Any]:
    """Writes the file and marks the export done; running it again rewrites the same file."""
    export = ports.exports.get(export_id)
    if export is None or export.get("state") == "done":
        return {"skipped": "unknown or done", "id": export_id}
    segment = ports.segments.get(export["segment_id"])
    if segment is None:
        ports.exports.save(export_id, state="failed", error="the segment was deleted", finished_at=iso(now))
        return {"id": export_id, "state": "failed"}
    node = parse_rule(segment["rule"])
    audience = evaluate(node, ports.reader, ports.tag_names.names(), now=now)
    size = ports.files.put_stream(export_key(export_id), csv_lines(profiles_of(ports.reader, audience.ids)))
    ports.exports.save(
        export_id, state="done", rows=audience.count, bytes=size, key=export_key(export_id), finished_at=iso(now)
    )
    return {"id": export_id, "state": "done", "rows": audience.count}


def profiles_of(reader: AudienceReader, ids: list[str]) -> Iterator[Customer]:
    for start in range(0, len(ids), PROFILE_BATCH):
        batch = ids[start : start + PROFILE_BATCH]
        found = {p.id: p for p in reader.profiles(batch)}
        yield from (found[cid] for cid in batch if cid in found)


def csv_lines(profiles: Iterable[Customer]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for profile in profiles:
        writer.writerow(
            [
                profile.id,
                f"+{profile.wa_id}" if profile.wa_id else "",
                profile.name or "",
                "yes" if profile.consent.marketing else "no",
                profile.country or "",
                profile.orders,
                profile.total_spent,
                profile.last_interaction_at or "",
            ]
        )
        if out.tell() > 64 * 1024:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def export_view(ports: ExportPorts, export: dict[str, Any]) -> dict[str, Any]:
    view = {
        k: export.get(k) for k in ("id", "segment_id", "segment_name", "state", "rows", "created_at", "finished_at")
    }
    if export.get("error"):
        view["error"] = export["error"]
    if export.get("state") == "done" and export.get("key"):
        view["download_url"] = ports.files.download_url(
            export["key"], expires=DOWNLOAD_URL_SECONDS, filename=f"{export.get('segment_name') or export['id']}.csv"
        )
    return view

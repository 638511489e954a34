"""CSV imports of customers: start, split into chunks, import a chunk, report.

    POST /v1/imports ─> uploads/<id>.csv in the bucket ─S3 ObjectCreated─> split(): sniff encoding and
    delimiter, check the header, cut the file into byte ranges of CHUNK_ROWS rows ─FIFO queue, one
    group per import─> import_chunk(): validate rows, claim numbers, write customers and tags in
    batches, count once ─> the last chunk writes the failed rows' CSV and marks the import done.

Rules (DESIGN §4 "Imports"): numbers in E.164 through phonenumbers with the import's or the deployment's
default country; the first valid occurrence of a number wins across the whole file (chunks of one
import run in file order, and a claim per (import, number) remembers which row took it); existing
tags only; a consent column needs a value in every row and is recorded with its source and the
import id; attributes are validated as on the API.

Exactly once: a chunk's counts are added in the same transaction as its done marker, so a redelivered
chunk counts nothing twice; a crash mid-chunk leaves claims that carry each row's outcome and
customer id, so the redelivery rewrites the same customers and reports the same outcome.
"""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from engage.audience.csv_rows import UTF8, WINDOWS_1252, Dialect, delimiter_of, is_utf8, records
from engage.audience.ports import ChunkQueue, FileStore, ImportCustomers, ImportStore, ImportTagSource
from engage.core.errors import Invalid, RateLimited
from engage.core.phones import PhoneRefused, is_region, to_wa_id
from engage.core.time import iso
from engage.core.types import MAX_ATTRIBUTES, Attributes
from engage.customers.profiles import Customer, new_customer, new_customer_id
from engage.tagging.catalog import TagChange, normalise_tag
from engage.tagging.ports import TagChangeWriter

CHUNK_ROWS = 5_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_BODY_BYTES = 5 * 1024 * 1024  # a text/csv body (API Gateway takes 10 MB; base64 grows it by a third)
IMPORTS_PER_HOUR = 3
UPLOAD_URL_SECONDS = 3600
DOWNLOAD_URL_SECONDS = 3600
CLAIM_DAYS = 7
MAX_TAGS_PER_ROW = 20

State = Literal["queued", "running", "done", "failed"]
Reason = Literal["invalid_number", "unknown_tag", "missing_consent", "duplicate", "bad_attribute", "malformed_row"]
REASONS: tuple[Reason, ...] = (
    "invalid_number",
    "unknown_tag",
    "missing_consent",
    "duplicate",
    "bad_attribute",
    "malformed_row",
)
Outcome = Literal["imported", "updated"]

COLUMN_ALIASES = {
    "phone": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "whatsapp": "phone",
    "wa_id": "phone",
    "tags": "tags",
    "tag": "tags",
    "name": "name",
    "consent": "consent",
    "marketing_consent": "consent",
    "consent_source": "consent_source",
}
YES = frozenset({"yes", "y", "true", "1", "ja", "j", "si", "sí", "oui", "opt-in", "optin", "x"})
NO = frozenset({"no", "n", "false", "0", "nein", "non", "opt-out", "optout"})
_ATTRIBUTES: TypeAdapter[dict[str, Any]] = TypeAdapter(Attributes)


def uploads_key(import_id: str) -> str:
    return f"uploads/{import_id}.csv"


def import_id_of(key: str) -> str | None:
    """`uploads/<id>.csv` -> `<id>` (None for anything else in the bucket)."""
    if not key.startswith("uploads/") or not key.endswith(".csv"):
        return None
    return key.removeprefix("uploads/").removesuffix(".csv") or None


def chunk_errors_key(import_id: str, chunk: int) -> str:
    return f"errors/{import_id}/chunk-{chunk:05d}.csv"


def errors_key(import_id: str) -> str:
    return f"errors/{import_id}.csv"


# ---------------------------------------------------------------------------------------- models
class ImportIn(BaseModel):
    """A presigned upload: the file goes to `upload_url` with a PUT, then the import starts by itself."""

    model_config = ConfigDict(extra="forbid", strict=True)

    filename: str = Field(min_length=1, max_length=200)
    default_country: str | None = Field(default=None, min_length=2, max_length=2, description="ISO region, e.g. DE")
    tags: list[str] = Field(default=[], max_length=MAX_TAGS_PER_ROW, description="Added to every row")


class ImportJob(BaseModel):
    """The import item: what was asked, how far it got, the counts of the report."""

    id: str
    state: State = "queued"
    filename: str | None = None
    source: Literal["body", "upload"] = "upload"
    default_country: str | None = None
    tags: list[str] = []
    created_at: str
    by: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    columns: list[str] = []
    rows: int | None = None
    chunks: int | None = None
    chunks_done: int = 0
    processed: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    failed: dict[str, int] = {}
    errors_key: str | None = None
    error: str | None = None
    finished_at: str | None = None


class Columns(BaseModel):
    """Which field holds what, by position."""

    phone: int
    tags: int | None = None
    name: int | None = None
    consent: int | None = None
    consent_source: int | None = None
    attributes: dict[str, int] = {}
    width: int


class Chunk(BaseModel):
    """One queued chunk: a byte range of the stored file and how to read it."""

    import_id: str
    chunk: int
    start: int
    end: int | None
    first_row: int
    encoding: str
    delimiter: str
    header_end: int | None = None  # where the header line ends (None: read it from the start to `start`)


@dataclass
class Claim:
    """Which row took a number in an import, what it became, and for which customer."""

    wa_id: str
    row: int
    outcome: Outcome
    customer_id: str


@dataclass
class Tally:
    processed: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    failed: Counter[str] = field(default_factory=Counter)


@dataclass
class Row:
    number: int
    wa_id: str
    name: str | None
    tags: list[str]
    consent: bool | None
    consent_source: str | None
    attributes: dict[str, Any]
    fields: list[str]


@dataclass
class Failure:
    number: int
    reason: Reason
    message: str
    fields: list[str]


@dataclass
class ImportPorts:
    imports: ImportStore
    files: FileStore
    customers: ImportCustomers
    queue: ChunkQueue
    tag_names: ImportTagSource
    tag_writer: TagChangeWriter
    default_country: str | None = None


class KnownTags:
    """The tags an import may give: the catalogued ones, and any other that has members now (the
    system's `product:`/`bought:` tags), asked of the store once per name. Asking by name, not
    listing every tag in use, keeps a chunk's reads independent of how many memberships exist."""

    def __init__(self, source: ImportTagSource) -> None:
        self._source = source
        self._catalogued: set[str] = source.names()
        self._held: dict[str, bool] = {}

    def __contains__(self, name: object) -> bool:
        if name in self._catalogued:
            return True
        if not isinstance(name, str) or not name:
            return False
        if name not in self._held:
            self._held[name] = self._source.has_members(name)
        return self._held[name]


# ---------------------------------------------------------------------------------------- start
def new_import_id() -> str:
    return "imp_" + uuid.uuid4().hex[:20]


def create_within_rate(store: ImportStore, job: ImportJob, now: datetime) -> None:
    """Records the import unless IMPORTS_PER_HOUR were started in the last hour (then a 429). The
    count and the write are one conditional write, so simultaneous starts cannot both take the last place."""
    if not store.create(job, since=iso(now - timedelta(hours=1)), per_window=IMPORTS_PER_HOUR):
        raise RateLimited(
            f"at most {IMPORTS_PER_HOUR} imports an hour: wait for the hour to pass, or put the rows in one file "
            f"(a file may hold up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)",
            code="import_rate_limited",
        )


def checked_tags(raw: Iterable[str], known: Container[str]) -> list[str]:
    names = []
    for value in raw:
        name = normalise_tag(value)
        if name not in known:
            raise Invalid(f"unknown tag {value!r}: create it first (POST /v1/tags)", code="unknown_tag")
        names.append(name)
    return list(dict.fromkeys(names))


def start_import(
    ports: ImportPorts, body: ImportIn | None, csv_body: bytes | None, *, by: str, now: datetime
) -> tuple[ImportJob, str | None]:
    """Records the import and either stores the CSV body (the import starts from its S3 event) or
    returns a presigned PUT for the file."""
    if body is not None and body.default_country and not is_region(body.default_country.upper()):
        raise Invalid(f"default_country {body.default_country!r} is not an ISO region", code="invalid_country")
    if csv_body is not None and not csv_body.strip():
        raise Invalid("the CSV body is empty: send a header line (phone,...) and rows", code="empty_csv")
    if csv_body is not None and len(csv_body) > MAX_BODY_BYTES:
        raise Invalid(
            f"a CSV body is at most {MAX_BODY_BYTES // (1024 * 1024)} MB: send "
            '{"filename": ...} instead for a presigned upload of up to 100 MB',
            code="body_too_large",
        )
    tags = checked_tags(body.tags, KnownTags(ports.tag_names)) if body is not None else []
    job = ImportJob(
        id=new_import_id(),
        filename=body.filename if body is not None else None,
        source="upload" if csv_body is None else "body",
        default_country=body.default_country.upper() if body is not None and body.default_country else None,
        tags=tags,
        created_at=iso(now),
        by=by,
    )
    create_within_rate(ports.imports, job, now)
    if csv_body is not None:
        ports.files.put(uploads_key(job.id), csv_body)
        return job, None
    return job, ports.files.upload_url(uploads_key(job.id), expires=UPLOAD_URL_SECONDS)


# ---------------------------------------------------------------------------------------- header
def read_header(fields: Sequence[str]) -> Columns:
    """Maps header names to positions; raises Invalid (the import fails) without a phone column, with a
    repeated column, or with an attribute name the API would refuse."""
    positions: dict[str, int] = {}
    attributes: dict[str, int] = {}
    for index, raw in enumerate(fields):
        name = raw.strip().lower().replace(" ", "_").replace("-", "_")
        if not name:
            continue
        column = COLUMN_ALIASES.get(name)
        if column is None:
            try:
                _ATTRIBUTES.validate_python({raw.strip(): "x"})
            except ValidationError as error:
                raise Invalid(
                    f"column {raw.strip()!r} is not a valid attribute name (letters, digits, _ . -, starting "
                    "with a letter)",
                    code="bad_column",
                ) from error
            attributes[raw.strip()] = index
            continue
        if column in positions:
            raise Invalid(f"column {column!r} appears twice", code="duplicate_column")
        positions[column] = index
    if "phone" not in positions:
        raise Invalid("the header has no phone column (phone, with the country code: +49 151 ...)", code="no_phone")
    if len(attributes) > MAX_ATTRIBUTES:
        raise Invalid(f"at most {MAX_ATTRIBUTES} attribute columns", code="too_many_columns")
    return Columns(**positions, attributes=attributes, width=len(fields))


# ---------------------------------------------------------------------------------------- split
@dataclass
class Scan:
    """What one pass over the file found."""

    delimiter: str
    chunks: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    utf8: bool = True
    header: list[str] = field(default_factory=list)


def scan(header_line: bytes, lines: Iterator[bytes], import_id: str) -> Scan:
    """Counts the rows and cuts the byte ranges of CHUNK_ROWS rows; notes whether every line is UTF-8."""
    found = Scan(delimiter_of(header_line.removeprefix(b"\xef\xbb\xbf")))

    def checked(raw_lines: Iterable[bytes]) -> Iterator[bytes]:
        for raw in raw_lines:
            found.utf8 = found.utf8 and is_utf8(raw)
            yield raw

    for record in records(checked(itertools.chain([header_line], lines)), found.delimiter):
        if record.number == 0:
            found.header = record.fields
            continue
        if found.rows % CHUNK_ROWS == 0:
            if found.chunks:
                found.chunks[-1]["end"] = record.offset
            found.chunks.append(
                {"import_id": import_id, "chunk": len(found.chunks), "start": record.offset, "end": None}
            )
            found.chunks[-1]["first_row"] = found.rows + 1
        found.rows += 1
    return found


def split(ports: ImportPorts, import_id: str, now: datetime) -> dict[str, Any]:
    """Streams the uploaded file once: encoding, delimiter, header, and the chunks' byte ranges; queues
    the chunks. Safe to run again (S3 delivers events at least once) until the first chunk is counted."""
    job = ports.imports.get(import_id)
    if job is None:
        return {"skipped": "unknown import", "id": import_id}
    if job.state in ("done", "failed") or job.chunks_done:
        return {"skipped": f"import is {job.state}", "id": import_id}
    lines = iter(ports.files.lines(uploads_key(import_id)))
    header_line = next(lines, b"")
    if not header_line.strip():
        ports.imports.save(import_id, state="failed", error="the file is empty", finished_at=iso(now))
        return {"id": import_id, "state": "failed"}
    found = scan(header_line, lines, import_id)
    dialect = Dialect(UTF8 if found.utf8 else WINDOWS_1252, found.delimiter)
    columns = [dialect.text(f).strip() for f in found.header]
    try:
        read_header(columns)
    except Invalid as error:
        ports.imports.save(import_id, state="failed", error=error.message, columns=columns, finished_at=iso(now))
        return {"id": import_id, "state": "failed", "error": error.message}
    for chunk in found.chunks:
        chunk.update(encoding=dialect.encoding, delimiter=dialect.delimiter, header_end=found.chunks[0]["start"])
    fields: dict[str, Any] = {
        "encoding": dialect.encoding,
        "delimiter": dialect.delimiter,
        "columns": columns,
        "rows": found.rows,
        "chunks": len(found.chunks),
        "started_at": iso(now),
    }
    if not found.chunks:
        ports.imports.save(import_id, state="done", finished_at=iso(now), **fields)
        return {"id": import_id, "state": "done", "rows": 0}
    ports.imports.save(import_id, state="running", **fields)
    ports.queue.send_chunks(import_id, found.chunks)
    return {"id": import_id, "state": "running", "rows": found.rows, "chunks": len(found.chunks)}


# ---------------------------------------------------------------------------------------- rows
def consent_value(raw: str) -> bool | None:
    value = raw.strip().lower()
    return True if value in YES else False if value in NO else None


def row_tags(cell: str, known_tags: Container[str]) -> list[str] | str:
    """The cell's tags (comma-separated), or why they are refused."""
    tags: list[str] = []
    for raw in (t.strip() for t in cell.replace(";", ",").split(",") if t.strip()):
        try:
            name = normalise_tag(raw)
        except Invalid:
            name = raw
        if name not in known_tags:
            return f"unknown tag {raw!r}"
        tags.append(name)
    if len(tags) > MAX_TAGS_PER_ROW:
        return f"{len(tags)} tags; at most {MAX_TAGS_PER_ROW} a row"
    return tags


def read_row(
    number: int, fields: list[str], columns: Columns, known_tags: Container[str], default_country: str | None
) -> Row | Failure:
    """One data row, validated as the API validates a customer; the first problem found is its reason."""

    def fail(reason: Reason, message: str) -> Failure:
        return Failure(number, reason, message, fields)

    if len(fields) > columns.width and any(f.strip() for f in fields[columns.width :]):
        return fail("malformed_row", f"{len(fields)} fields, the header has {columns.width}")

    def get(index: int | None) -> str:
        return fields[index].strip() if index is not None and index < len(fields) else ""

    try:
        wa_id = to_wa_id(get(columns.phone), default_country)
    except PhoneRefused as refused:
        return fail("invalid_number", refused.message)
    tags = row_tags(get(columns.tags), known_tags)
    if isinstance(tags, str):
        return fail("unknown_tag", tags)
    consent: bool | None = None
    if columns.consent is not None:
        consent = consent_value(get(columns.consent))
        if consent is None:
            shown = get(columns.consent)
            return fail("missing_consent", f"consent {shown!r} is not yes or no" if shown else "no consent given")
    name = get(columns.name) or None
    if name is not None and len(name) > 200:
        return fail("bad_attribute", f"name is {len(name)} characters; at most 200")
    raw_attributes = {key: get(index) for key, index in columns.attributes.items() if get(index)}
    try:
        attributes = _ATTRIBUTES.validate_python(raw_attributes)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return fail("bad_attribute", f"attribute {where}: {first.get('msg', 'invalid')}".replace("Value error, ", ""))
    return Row(
        number, wa_id, name, list(dict.fromkeys(tags)), consent, get(columns.consent_source) or None, attributes, fields
    )


# ---------------------------------------------------------------------------------------- chunks
def import_chunk(ports: ImportPorts, chunk: Chunk, now: datetime) -> dict[str, Any]:
    """Imports one chunk; at-least-once safe (see the module docstring)."""
    job = ports.imports.get(chunk.import_id)
    if job is None or job.state in ("done", "failed"):
        return {"skipped": "import finished or unknown", "id": chunk.import_id}
    dialect = Dialect(chunk.encoding, chunk.delimiter)
    # Just the header line's bytes: a range up to the chunk's start would grow with the chunk's place in the file.
    header = ports.files.lines(uploads_key(job.id), 0, chunk.header_end or chunk.start)
    header_fields = next(records(header, chunk.delimiter)).fields
    columns = read_header([dialect.text(f) for f in header_fields])
    known = KnownTags(ports.tag_names)
    default_country = job.default_country or ports.default_country
    tally = Tally()
    failures: list[Failure] = []
    first: dict[str, Row] = {}  # the first valid row of each number in this chunk
    lines = ports.files.lines(uploads_key(job.id), chunk.start, chunk.end)
    for record in records(lines, chunk.delimiter, start=chunk.start, first_number=chunk.first_row):
        tally.processed += 1
        read = read_row(record.number, [dialect.text(f) for f in record.fields], columns, known, default_country)
        if isinstance(read, Failure):
            failures.append(read)
        elif read.wa_id in first:
            failures.append(
                Failure(read.number, "duplicate", f"row {first[read.wa_id].number} has this number", read.fields)
            )
        else:
            first[read.wa_id] = read
    rows = _claimed(ports, job, list(first.values()), failures, now)
    _write(ports, job, rows, now)
    for failure in failures:
        if failure.reason == "duplicate":
            tally.duplicates += 1
        else:
            tally.failed[failure.reason] += 1
    for _, claim in rows:
        tally.imported += claim.outcome == "imported"
        tally.updated += claim.outcome == "updated"
    if failures:
        failures.sort(key=lambda f: f.number)
        ports.files.put(chunk_errors_key(job.id, chunk.chunk), failed_rows_csv(failures, job.columns))
    counted = ports.imports.finish_chunk(job.id, chunk.chunk, tally)
    finished = finish_if_complete(ports, job.id, now)
    return {
        "id": job.id,
        "chunk": chunk.chunk,
        "counted": counted,
        "rows": tally.processed,
        "failed": len(failures),
        "finished": finished,
    }


def _claimed(
    ports: ImportPorts, job: ImportJob, rows: list[Row], failures: list[Failure], now: datetime
) -> list[tuple[Row, Claim]]:
    """The rows that take their number in this import, each with its claim (kept from an earlier
    delivery of this chunk, or new); the others become duplicates or failures."""
    claims = ports.imports.claims(job.id, [r.wa_id for r in rows])
    kept: list[tuple[Row, Claim]] = []
    fresh: list[Row] = []
    for row in rows:
        claim = claims.get(row.wa_id)
        if claim is None:
            fresh.append(row)
        elif claim.row == row.number:
            kept.append((row, claim))  # this chunk again: the same customer, the same outcome
        else:
            failures.append(Failure(row.number, "duplicate", f"row {claim.row} has this number", row.fields))
    owners = ports.customers.identities([r.wa_id for r in fresh])
    profiles = ports.customers.profiles(sorted(set(owners.values())))
    new_claims: list[Claim] = []
    for row in fresh:
        owner = owners.get(row.wa_id)
        profile = profiles.get(owner) if owner else None
        if profile is not None and len({**profile.attributes, **row.attributes}) > MAX_ATTRIBUTES:
            failures.append(
                Failure(
                    row.number,
                    "bad_attribute",
                    f"the customer would have more than {MAX_ATTRIBUTES} attributes",
                    row.fields,
                )
            )
            continue
        claim = Claim(row.wa_id, row.number, "updated" if owner else "imported", owner or new_customer_id())
        new_claims.append(claim)
        kept.append((row, claim))
    ports.imports.put_claims(job.id, new_claims, expires_at=int((now + timedelta(days=CLAIM_DAYS)).timestamp()))
    kept.sort(key=lambda pair: pair[0].number)
    return kept


def _fields(job: ImportJob, row: Row, now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if row.name:
        fields["name"] = row.name
    for key, value in row.attributes.items():
        fields[f"attributes.{key}"] = value
    if row.consent is not None:
        fields["consent"] = {
            "marketing": row.consent,
            "updated_at": iso(now),
            "source": row.consent_source or "import",
            "import_id": job.id,
        }
    return fields


def _write(ports: ImportPorts, job: ImportJob, rows: list[tuple[Row, Claim]], now: datetime) -> None:
    """Customers (created or updated, in batches) and their tags."""
    created: list[Customer] = []
    updates: list[tuple[str, dict[str, Any]]] = []
    for row, claim in rows:
        fields = _fields(job, row, now)
        if claim.outcome == "imported":
            customer = new_customer(wa_id=row.wa_id, user_id=None, name=row.name, now=now)
            customer.id = claim.customer_id
            customer.attributes = dict(row.attributes)
            if "consent" in fields:
                customer.consent = customer.consent.model_validate(fields["consent"])
            created.append(customer)
        elif fields:
            updates.append((claim.customer_id, fields))
    taken = ports.customers.create_many(created)
    if taken:  # created by an earlier delivery of this chunk, or by a webhook just now: update instead
        owners = ports.customers.identities([c.wa_id for c in taken if c.wa_id])
        by_wa_id = {row.wa_id: row for row, _ in rows}
        for customer in taken:
            owner = owners.get(customer.wa_id or "")
            if owner:
                updates.append((owner, _fields(job, by_wa_id[customer.wa_id or ""], now)))
                for index, (row, claim) in enumerate(rows):
                    if row.wa_id == customer.wa_id:
                        rows[index] = (row, Claim(claim.wa_id, claim.row, claim.outcome, owner))
    ports.customers.update_many([(cid, fields) for cid, fields in updates if fields])
    changes = [
        TagChange(
            customer_id=claim.customer_id,
            tag=tag,
            action="add",
            source=f"import:{job.id}",
            reason=f"row {row.number} of {job.filename or 'the CSV body'}",
            event_id=f"import:{job.id}:{row.number}",
            at=iso(now),
        )
        for row, claim in rows
        for tag in dict.fromkeys([*job.tags, *row.tags])
    ]
    if changes:
        ports.tag_writer.apply_batch(changes)


# ---------------------------------------------------------------------------------------- report
ERROR_COLUMNS = ["row", "reason", "message"]


def failed_rows_csv(failures: Sequence[Failure], columns: Sequence[str], *, header: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow([*ERROR_COLUMNS, *columns])
    for failure in failures:
        writer.writerow([failure.number, failure.reason, failure.message, *failure.fields])
    return out.getvalue().encode(UTF8)


def finish_if_complete(ports: ImportPorts, import_id: str, now: datetime) -> bool:
    """After the last chunk is counted: one CSV of every failed row (header first, rows in file order),
    then the import is done. Idempotent: a redelivered last chunk writes the same file again."""
    job = ports.imports.get(import_id)
    if job is None or job.chunks is None or job.chunks_done < job.chunks:
        return False
    if job.state == "done":
        return True
    failed = job.duplicates + sum(job.failed.values())
    key = None
    if failed:
        key = errors_key(import_id)
        header = failed_rows_csv([], job.columns, header=True)
        parts = (
            ports.files.lines(chunk_errors_key(import_id, n))
            for n in range(job.chunks)
            if ports.files.exists(chunk_errors_key(import_id, n))
        )
        ports.files.put_stream(key, _joined(header, parts))
    ports.imports.save(import_id, state="done", errors_key=key, finished_at=iso(now))
    return True


def _joined(first: bytes, parts: Iterable[Iterable[bytes]]) -> Iterator[bytes]:
    yield first
    for part in parts:
        yield from part


def report(ports: ImportPorts, job: ImportJob) -> dict[str, Any]:
    """GET /v1/imports/{id}: the state, the counts so far, and the failed rows' CSV once done."""
    body = job.model_dump(
        include={
            "id",
            "state",
            "filename",
            "source",
            "rows",
            "processed",
            "imported",
            "updated",
            "duplicates",
            "created_at",
            "finished_at",
            "encoding",
            "delimiter",
            "columns",
            "error",
            "tags",
        }
    )
    body["failed"] = {reason: job.failed.get(reason, 0) for reason in REASONS if reason != "duplicate"}
    body["failed"]["duplicate"] = job.duplicates
    body["failed_total"] = sum(job.failed.values()) + job.duplicates
    body["chunks"] = {"total": job.chunks, "done": job.chunks_done}
    if job.errors_key:
        body["errors_url"] = ports.files.download_url(
            job.errors_key, expires=DOWNLOAD_URL_SECONDS, filename=f"{job.id}-failed-rows.csv"
        )
    return body

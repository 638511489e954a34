"""In-memory stand-ins for the audience capability's ports (customer search, the timeline, imports and exports)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from engage.audience.imports import Claim, ImportJob, ImportPorts, Tally
from engage.audience.names import search_name
from engage.audience.search import Path, Profile
from engage.customers.profiles import Customer
from engage.tagging.catalog import TagChange


class InMemoryHistory:
    """One customer partition: items keyed by sk."""

    def __init__(self, items: Sequence[Mapping[str, Any]]):
        self.items = sorted(items, key=lambda i: str(i["sk"]))
        self.read = 0  # items handed out, to show pages are read lazily

    def _newest_first(self, prefix: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        upper = f"{prefix}{until}#~" if until else f"{prefix}~"
        for item in reversed(self.items):
            if prefix <= str(item["sk"]) <= upper:
                self.read += 1
                yield item

    def events(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        return self._newest_first("EVT#", until)

    def tag_changes(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        return self._newest_first("TAGLOG#", until)

    def sends(self, customer_id: str) -> list[Mapping[str, Any]]:
        return [i for i in self.items if str(i["sk"]).startswith("SEND#")]


class InMemoryDirectory:
    def __init__(self, profiles: Sequence[Profile], tags: Mapping[str, set[str]] | None = None):
        self.by_id = {p.id: p for p in profiles}
        self.tags = {k: set(v) for k, v in (tags or {}).items()}
        self.examined = 0

    def candidates(self, path: Path, value: str | None, after: str | None, limit: int) -> list[tuple[str, str]]:
        if path == "name":
            rows = [(f"{search_name(p.name)}#{p.id}", p.id) for p in self.by_id.values() if p.name]
            rows = [r for r in rows if r[0].startswith(value or "")]
        elif path == "phone":
            rows = [(p.wa_id, p.id) for p in self.by_id.values() if p.wa_id and p.wa_id.startswith(value or "")]
        elif path == "tag":
            rows = [(f"CUST#{c}", c) for c in self.tags.get(value or "", set())]
        else:
            rows = [(p.id, p.id) for p in self.by_id.values()]
        page = [r for r in sorted(rows) if after is None or r[0] > after][:limit]
        self.examined += len(page)
        return page

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Profile]:
        return {c: self.by_id[c] for c in customer_ids if c in self.by_id}

    def holders(self, tag: str, customer_ids: Sequence[str]) -> set[str]:
        return set(customer_ids) & self.tags.get(tag, set())


class FakeFiles:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.reads: list[tuple[str, int, int | None]] = []

    def lines(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        self.reads.append((key, start, end))
        data = self.objects[key]
        stop = len(data) if end is None else min(end, len(data))
        while start < stop:  # line by line, as S3's stream arrives: never a copy of the whole file
            newline = data.find(b"\n", start, stop)
            line_end = stop if newline < 0 else newline + 1
            yield data[start:line_end]
            start = line_end

    def put(self, key: str, body: bytes, content_type: str = "text/csv") -> None:
        self.objects[key] = bytes(body)

    def put_stream(self, key: str, parts: Iterable[bytes], content_type: str = "text/csv") -> int:
        self.objects[key] = b"".join(parts)
        return len(self.objects[key])

    def exists(self, key: str) -> bool:
        return key in self.objects

    def upload_url(self, key: str, *, expires: int) -> str:
        return f"https://files.example/{key}?put&expires={expires}"

    def download_url(self, key: str, *, expires: int, filename: str) -> str:
        return f"https://files.example/{key}?get&filename={filename}"


class FakeImports:
    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.claimed: dict[tuple[str, str], Claim] = {}
        self.chunks_done: set[tuple[str, int]] = set()

    def create(self, job: ImportJob, *, since: str, per_window: int) -> bool:
        if sum(1 for other in self.jobs.values() if other["created_at"] >= since) >= per_window:
            return False
        self.jobs[job.id] = job.model_dump()
        return True

    def get(self, import_id: str) -> ImportJob | None:
        data = self.jobs.get(import_id)
        return ImportJob.model_validate(data) if data else None

    def save(self, import_id: str, **fields: Any) -> None:
        self.jobs[import_id].update(fields)

    def claims(self, import_id: str, wa_ids: Sequence[str]) -> dict[str, Claim]:
        return {w: self.claimed[(import_id, w)] for w in wa_ids if (import_id, w) in self.claimed}

    def put_claims(self, import_id: str, claims: Sequence[Claim], *, expires_at: int) -> None:
        for claim in claims:
            self.claimed[(import_id, claim.wa_id)] = claim

    def finish_chunk(self, import_id: str, chunk: int, tally: Tally) -> bool:
        if (import_id, chunk) in self.chunks_done:
            return False
        self.chunks_done.add((import_id, chunk))
        job = self.jobs[import_id]
        for name in ("processed", "imported", "updated", "duplicates"):
            job[name] += getattr(tally, name)
        job["chunks_done"] += 1
        job["failed"] = dict(Counter(job["failed"]) + tally.failed)
        return True


class FakeImportCustomers:
    """Profiles by id and a wa_id index; `fail_updates` makes the next update_many raise (a crash)."""

    def __init__(self) -> None:
        self.by_id: dict[str, Customer] = {}
        self.by_wa_id: dict[str, str] = {}
        self.fail_updates = 0
        self.fail_creates = 0

    def identities(self, wa_ids: Sequence[str]) -> dict[str, str]:
        return {w: self.by_wa_id[w] for w in wa_ids if w in self.by_wa_id}

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        return {c: self.by_id[c].model_copy(deep=True) for c in customer_ids if c in self.by_id}

    def create_many(self, customers: Sequence[Customer]) -> list[Customer]:
        taken = []
        for customer in customers:
            if self.fail_creates:
                self.fail_creates -= 1
                raise RuntimeError("crash while creating customers")
            if customer.id in self.by_id or (customer.wa_id in self.by_wa_id):
                taken.append(customer)
                continue
            self.by_id[customer.id] = customer.model_copy(deep=True)
            self.by_wa_id[customer.wa_id or ""] = customer.id
        return taken

    def update_many(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if self.fail_updates:
            self.fail_updates -= 1
            raise RuntimeError("crash while updating customers")
        for customer_id, fields in updates:
            customer = self.by_id[customer_id]
            data = customer.model_dump()
            for path, value in fields.items():
                if path.startswith("attributes."):
                    data["attributes"][path.removeprefix("attributes.")] = value
                else:
                    data[path] = value
            self.by_id[customer_id] = Customer.model_validate(data)


class FakeChunkQueue:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_chunks(self, import_id: str, chunks: Sequence[dict[str, Any]]) -> None:
        self.sent.extend(dict(c) for c in chunks)


class FakeTagNames:
    def __init__(self, names: Iterable[str]) -> None:
        self._names = set(names)

    def names(self) -> set[str]:
        return set(self._names)

    def has_members(self, name: str) -> bool:
        return name in self._names


class FakeTagWriter:
    def __init__(self) -> None:
        self.memberships: dict[tuple[str, str], TagChange] = {}

    def apply(self, changes: list[TagChange]) -> list[TagChange]:
        return self.apply_batch(changes)

    def apply_batch(self, changes: list[TagChange]) -> list[TagChange]:
        for change in changes:
            self.memberships[(change.customer_id, change.tag)] = change
        return changes


def import_ports(tags: Iterable[str] = ("interest:cosmetics", "vip:gold"), default_country: str | None = "DE"):
    return ImportPorts(
        imports=FakeImports(),
        files=FakeFiles(),
        customers=FakeImportCustomers(),
        queue=FakeChunkQueue(),
        tag_names=FakeTagNames(tags),
        tag_writer=FakeTagWriter(),
        default_country=default_country,
    )

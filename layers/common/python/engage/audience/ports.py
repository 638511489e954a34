"""The ports the audience capability owns (imports, exports); adapters implement them, tests use fakes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engage.audience.imports import Claim, ImportJob, Tally
    from engage.customers.profiles import Customer


class FileStore(Protocol):
    """The imports bucket: streamed reads, whole small writes, presigned links."""

    def lines(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The object's lines (endings kept) from byte `start` to byte `end` (exclusive), streamed."""
        ...

    def put(self, key: str, body: bytes, content_type: str = "text/csv") -> None: ...

    def put_stream(self, key: str, parts: Iterable[bytes], content_type: str = "text/csv") -> int:
        """Writes the parts as one object without holding them all in memory; returns its size."""
        ...

    def exists(self, key: str) -> bool: ...

    def upload_url(self, key: str, *, expires: int) -> str: ...

    def download_url(self, key: str, *, expires: int, filename: str) -> str: ...


class ImportStore(Protocol):
    def create(self, job: ImportJob, *, since: str, per_window: int) -> bool:
        """Records the import unless `per_window` imports were created at or after `since` (ISO time);
        False (nothing written) then. Atomic: of simultaneous calls, at most `per_window` minus those
        already in the window succeed."""
        ...

    def get(self, import_id: str) -> ImportJob | None: ...

    def save(self, import_id: str, **fields: Any) -> None: ...

    def claims(self, import_id: str, wa_ids: Sequence[str]) -> dict[str, Claim]: ...

    def put_claims(self, import_id: str, claims: Sequence[Claim], *, expires_at: int) -> None: ...

    def finish_chunk(self, import_id: str, chunk: int, tally: Tally) -> bool:
        """Adds the chunk's counts and its done marker at once; False if the chunk was counted already."""
        ...


class ImportCustomers(Protocol):
    """Customer reads and writes in batches, for imports."""

    def identities(self, wa_ids: Sequence[str]) -> dict[str, str]:
        """wa_id -> customer id, for the numbers that belong to someone."""
        ...

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Customer]: ...

    def create_many(self, customers: Sequence[Customer]) -> list[Customer]:
        """Creates profiles with their identities; returns those that could not be created (taken)."""
        ...

    def update_many(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Sets top-level fields and `attributes.<key>` entries on existing profiles."""
        ...


class ImportTagSource(Protocol):
    """The tags an import may give (engage.audience.imports.KnownTags)."""

    def names(self) -> set[str]:
        """The catalogued tags."""
        ...

    def has_members(self, name: str) -> bool:
        """Whether someone holds the tag now (the system's `product:`/`bought:` tags are not catalogued)."""
        ...


class ChunkQueue(Protocol):
    def send_chunks(self, import_id: str, chunks: Sequence[dict[str, Any]]) -> None:
        """Queues the chunks of one import in order (one at a time per import)."""
        ...


class ExportStore(Protocol):
    def create(self, export: dict[str, Any]) -> None: ...

    def get(self, export_id: str) -> dict[str, Any] | None: ...

    def save(self, export_id: str, **fields: Any) -> None: ...

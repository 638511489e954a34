"""CSV imports on in-memory fakes: encodings, delimiters, every failure reason, chunks, redelivery, crashes,
the hourly limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.audience import imports
from engage.audience.imports import Chunk, ImportIn, import_chunk, report, split, start_import, uploads_key
from engage.core.errors import Invalid, RateLimited
from engage.core.time import parse_iso
from tests.fakes.audience import import_ports

NOW = parse_iso("2026-11-23T10:00:00Z")


def run(ports, body: bytes, now=NOW, **start):
    """Stores the CSV as the API does, splits it as the S3 event does, imports every queued chunk in order."""
    job, _ = start_import(
        ports, ImportIn(filename="customers.csv", **start) if start else None, body, by="mara", now=now
    )
    if start:
        ports.files.put(uploads_key(job.id), body)
    split(ports, job.id, now)
    for message in list(ports.queue.sent):
        import_chunk(ports, Chunk.model_validate(message), now)
    return report(ports, ports.imports.get(job.id))


def customer(ports, wa_id):
    return ports.customers.by_id[ports.customers.by_wa_id[wa_id]]


# ------------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("label", "raw"),
    [
        ("utf-8", "phone,name,city\n+4915123456789,Jürgen Groß,Köln\n".encode()),
        ("utf-8 with BOM", b"\xef\xbb\xbf" + "phone,name,city\n+4915123456789,Jürgen Groß,Köln\n".encode()),
        ("windows-1252", "phone,name,city\r\n+4915123456789,Jürgen Groß,Köln\r\n".encode("cp1252")),
    ],
)
def test_names_and_attributes_read_right_in_every_encoding_excel_writes(label, raw):
    ports = import_ports()
    result = run(ports, raw)
    assert result["state"] == "done" and result["imported"] == 1, label
    anna = customer(ports, "4915123456789")
    assert anna.name == "Jürgen Groß"
    assert anna.attributes == {"city": "Köln"}
    assert result["columns"] == ["phone", "name", "city"]  # the BOM is not part of the first column
    assert result["encoding"] == ("cp1252" if label == "windows-1252" else "utf-8")


def test_a_semicolon_file_from_german_excel_keeps_commas_inside_fields():
    ports = import_ports()
    raw = b"Phone;Name;Tags\n0151 23456789;Schmidt, Anna;interest:cosmetics,vip:gold\n"
    result = run(ports, raw)
    assert result["delimiter"] == ";" and result["imported"] == 1
    anna = customer(ports, "4915123456789")  # national form read in the deployment's country
    assert anna.name == "Schmidt, Anna"
    assert {tag for (_, tag) in ports.tag_writer.memberships} == {"interest:cosmetics", "vip:gold"}


def test_a_comma_file_with_quoted_fields_and_a_line_break_inside_a_quote():
    ports = import_ports()
    raw = b'phone,name,note\n+4915123456789,"Anna ""A."" Schmidt","line one\nline two"\n+4915123456788,Ben,x\n'
    result = run(ports, raw)
    assert result["rows"] == 2 and result["imported"] == 2
    assert customer(ports, "4915123456789").name == 'Anna "A." Schmidt'
    assert customer(ports, "4915123456789").attributes == {"note": "line one\nline two"}


# ------------------------------------------------------------------------------------ reasons


def test_every_failure_reason_is_counted_and_listed_with_the_row_in_the_failed_rows_file():
    ports = import_ports()
    raw = (
        "phone,name,tags,consent,consent_source,size\n"
        "+4915123456789,Anna,interest:cosmetics,yes,newsletter form,M\n"  # 1 imported
        "not a number,Ben,,yes,,\n"  # 2 invalid_number
        "+4915123456788,Cleo,interest:astrology,yes,,\n"  # 3 unknown_tag
        "+4915123456787,Dana,,,,\n"  # 4 missing_consent
        "+49 151 23456789,Anna again,,no,,\n"  # 5 duplicate of row 1
        f"+4915123456786,Emil,,yes,,{'x' * 1001}\n"  # 6 bad_attribute (longer than the API takes)
        "+4915123456785,Fay,,maybe,,\n"  # 7 missing_consent: not a yes or no
    ).encode()
    result = run(ports, raw)
    assert result["rows"] == 7 and result["processed"] == 7
    assert result["imported"] == 1 and result["updated"] == 0
    assert result["duplicates"] == 1
    assert result["failed"] == {
        "invalid_number": 1,
        "unknown_tag": 1,
        "missing_consent": 2,
        "bad_attribute": 1,
        "malformed_row": 0,
        "duplicate": 1,
    }
    assert result["failed_total"] == 6
    lines = ports.files.objects[f"errors/{result['id']}.csv"].decode().splitlines()
    assert lines[0] == "row,reason,message,phone,name,tags,consent,consent_source,size"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["2", "invalid_number"],
        ["3", "unknown_tag"],
        ["4", "missing_consent"],
        ["5", "duplicate"],
        ["6", "bad_attribute"],
        ["7", "missing_consent"],
    ]
    assert "row 1 has this number" in lines[4]
    assert result["errors_url"].startswith("https://files.example/errors/")


def test_consent_is_recorded_with_its_source_and_the_import():
    ports = import_ports()
    result = run(ports, b"phone,consent,consent_source\n+4915123456789,ja,checkout box\n+4915123456788,nein,\n")
    anna, ben = customer(ports, "4915123456789"), customer(ports, "4915123456788")
    assert anna.consent.marketing is True
    assert anna.consent.source == "checkout box" and anna.consent.import_id == result["id"]
    assert ben.consent.marketing is False and ben.consent.source == "import"


def test_existing_customers_are_updated_not_duplicated_and_keep_what_the_file_does_not_say():
    ports = import_ports()
    run(ports, b"phone,name,city\n+4915123456789,Anna,Berlin\n")
    result = run(ports, b"phone,size\n+4915123456789,M\n", now=NOW + timedelta(minutes=1))
    assert result["imported"] == 0 and result["updated"] == 1
    anna = customer(ports, "4915123456789")
    assert anna.name == "Anna" and anna.attributes == {"city": "Berlin", "size": "M"}
    assert len(ports.customers.by_id) == 1


def test_a_header_without_a_phone_column_fails_the_import_with_a_clear_error():
    ports = import_ports()
    result = run(ports, b"name,email\nAnna,anna@example.com\n")
    assert result["state"] == "failed"
    assert "phone column" in result["error"]
    assert ports.queue.sent == []


def test_tags_for_every_row_must_exist_before_the_import_starts():
    ports = import_ports()
    with pytest.raises(Invalid) as refused:
        start_import(ports, ImportIn(filename="a.csv", tags=["interest:astrology"]), None, by="mara", now=NOW)
    assert refused.value.code == "unknown_tag"
    job, url = start_import(ports, ImportIn(filename="a.csv", tags=["vip:gold"]), None, by="mara", now=NOW)
    assert url and "uploads/" in url and job.tags == ["vip:gold"]


class CatalogAndMembers:
    """Catalogued tags, and tags that only have members (as the system's product tags do)."""

    def __init__(self, catalogued: set[str], members: set[str]) -> None:
        self.catalogued, self.members = catalogued, members
        self.asked: list[str] = []

    def names(self) -> set[str]:
        return set(self.catalogued)

    def has_members(self, name):
        self.asked.append(name)
        return name in self.members


def test_a_tag_with_members_but_no_catalog_entry_is_accepted_and_each_name_is_asked_once():
    ports = import_ports()
    ports.tag_names = CatalogAndMembers({"interest:cosmetics"}, {"product:lipstick"})
    body = (
        b"phone,tags\n+4915123456789,product:lipstick\n+4915123456788,product:lipstick;interest:cosmetics\n"
        b"+4915123456787,product:mascara\n+4915123456786,product:mascara\n"
    )
    result = run(ports, body)
    assert result["imported"] == 2 and result["failed"]["unknown_tag"] == 2
    assert sorted(ports.tag_names.asked) == ["product:lipstick", "product:mascara"]


# ------------------------------------------------------------------------------------ chunks


def many_rows(n: int, *, repeat_every: int = 0) -> bytes:
    lines = ["phone,name"]
    for i in range(n):
        number = i % repeat_every if repeat_every else i
        lines.append(f"+491512{number:07d},Customer {i}")
    return ("\n".join(lines) + "\n").encode()


def test_the_first_occurrence_wins_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    ports = import_ports()
    result = run(ports, many_rows(10, repeat_every=3))  # numbers 0,1,2,0,1,2,0,1,2,0 in chunks of 4
    assert result["chunks"] == {"total": 3, "done": 3}
    assert result["imported"] == 3 and result["duplicates"] == 7
    assert customer(ports, "4915120000000").name == "Customer 0"
    assert customer(ports, "4915120000001").name == "Customer 1"
    # Each chunk read only its own byte range of the file, plus the header line's bytes.
    ranges = [(s, e) for key, s, e in ports.files.reads if key.startswith("uploads/") and s > 0]
    assert len(ranges) == 3 and ranges[-1][1] is None
    header_end = len(b"phone,name\n")
    assert ranges[0][0] == header_end
    header_reads = [(s, e) for key, s, e in ports.files.reads if key.startswith("uploads/") and s == 0 and e]
    assert header_reads == [(0, header_end)] * 3


def test_a_redelivered_chunk_counts_nothing_twice(monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    ports = import_ports()
    body = many_rows(7) + b"bad,Nobody\n"
    job, _ = start_import(ports, None, body, by="mara", now=NOW)
    split(ports, job.id, NOW)
    chunks = [Chunk.model_validate(m) for m in ports.queue.sent]
    for chunk in [chunks[0], chunks[0], chunks[1], chunks[2], chunks[1], chunks[2]]:  # SQS delivers again
        import_chunk(ports, chunk, NOW)
    result = report(ports, ports.imports.get(job.id))
    assert result["state"] == "done"
    assert (result["processed"], result["imported"], result["updated"], result["duplicates"]) == (8, 7, 0, 0)
    assert result["failed"]["invalid_number"] == 1
    assert len(ports.customers.by_id) == 7


def test_a_crash_mid_chunk_resumes_with_the_same_customers_and_outcomes(monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    ports = import_ports()
    ports.customers.by_id.clear()
    run(ports, b"phone,name\n+4915120000001,Known\n")  # one customer exists before the import
    job, _ = start_import(ports, None, many_rows(5), by="mara", now=NOW + timedelta(minutes=5))
    split(ports, job.id, NOW)
    chunks = [Chunk.model_validate(m) for m in ports.queue.sent if m["import_id"] == job.id]
    ports.customers.fail_updates = 1  # the worker dies after creating the new customers of chunk 0
    with pytest.raises(RuntimeError):
        import_chunk(ports, chunks[0], NOW)
    assert ports.imports.get(job.id).processed == 0  # nothing counted by the crashed run
    for chunk in chunks:  # SQS delivers chunk 0 again, then chunk 1
        import_chunk(ports, chunk, NOW)
    result = report(ports, ports.imports.get(job.id))
    assert (result["imported"], result["updated"], result["processed"]) == (4, 1, 5)
    assert len(ports.customers.by_id) == 5
    assert customer(ports, "4915120000001").name == "Customer 1"


def test_a_redelivered_s3_event_splits_again_only_until_a_chunk_is_counted(monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    ports = import_ports()
    job, _ = start_import(ports, None, many_rows(3), by="mara", now=NOW)
    split(ports, job.id, NOW)
    import_chunk(ports, Chunk.model_validate(ports.queue.sent[0]), NOW)
    assert split(ports, job.id, NOW)["skipped"]
    assert len(ports.queue.sent) == 2


# ------------------------------------------------------------------------------------ limits


def test_more_than_three_imports_an_hour_is_refused_with_a_clear_message():
    ports = import_ports()
    for minute in range(3):
        start_import(ports, None, b"phone\n+4915123456789\n", by="mara", now=NOW + timedelta(minutes=minute))
    with pytest.raises(RateLimited) as refused:
        start_import(ports, None, b"phone\n+4915123456789\n", by="mara", now=NOW + timedelta(minutes=30))
    assert refused.value.status == 429 and refused.value.code == "import_rate_limited"
    assert "at most 3 imports an hour" in refused.value.message
    # An hour after the first one, there is room again.
    start_import(ports, None, b"phone\n+4915123456789\n", by="mara", now=NOW + timedelta(minutes=60, seconds=1))


def test_a_row_with_more_fields_than_the_header_is_malformed():
    ports = import_ports()
    result = run(ports, b"phone,name\n+4915123456789,Anna,extra\n+4915123456788,Ben\n")
    assert result["failed"]["malformed_row"] == 1 and result["imported"] == 1

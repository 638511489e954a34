"""Imports and exports through the real handlers on moto, in the local runtime: the API stores the CSV
(or hands out a presigned link the runtime serves), S3 notifies the imports function, the FIFO chunk
queue feeds the import worker, and the report's links download the files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.runtime import LocalRuntime

SHOP_CSV = (
    "phone;name;tags;consent;consent_source;city\r\n"
    "+49 151 23456789;Anna Schmidt;interest:cosmetics;ja;Newsletter;Berlin\r\n"
    "0151 23456788;Ben Müller;;nein;;Köln\r\n"
    "12345;Kein Name;;ja;;\r\n"
    "+4915123456789;Anna doppelt;;ja;;\r\n"
    "+4915123456787;Cleo;interest:astrology;ja;;\r\n"
    "+4915123456786;Dana;;;;\r\n"
)


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as rt:
        rt.client = httpx.Client(base_url=rt.url, headers=rt.bearer("admin"), timeout=60)  # type: ignore[attr-defined]
        created = rt.client.post("/v1/tags", json={"name": "interest:cosmetics", "description": "Likes cosmetics"})  # type: ignore[attr-defined]
        assert created.status_code in (201, 409)
        yield rt


def api(rt: LocalRuntime) -> httpx.Client:
    return rt.client  # type: ignore[attr-defined,no-any-return]


def import_csv(rt: LocalRuntime, body: bytes) -> dict[str, Any]:
    started = api(rt).post("/v1/imports", content=body, headers={"content-type": "text/csv"})
    assert started.status_code == 202, started.text
    rt.drain()
    report = api(rt).get(f"/v1/imports/{started.json()['id']}")
    assert report.status_code == 200
    return report.json()


def test_a_csv_body_is_imported_and_reported_with_a_download_of_the_failed_rows(runtime):
    report = import_csv(runtime, SHOP_CSV.encode())
    assert report["state"] == "done" and report["delimiter"] == ";"
    assert (report["rows"], report["processed"], report["imported"], report["updated"]) == (6, 6, 2, 0)
    assert report["duplicates"] == 1
    assert report["failed"]["invalid_number"] == 1
    assert report["failed"]["unknown_tag"] == 1
    assert report["failed"]["missing_consent"] == 1
    failed = list(csv.reader(io.StringIO(httpx.get(report["errors_url"]).text)))
    assert failed[0][:4] == ["row", "reason", "message", "phone"]
    assert [(r[0], r[1]) for r in failed[1:]] == [
        ("3", "invalid_number"),
        ("4", "duplicate"),
        ("5", "unknown_tag"),
        ("6", "missing_consent"),
    ]
    anna = api(runtime).get("/v1/customers/+4915123456789").json()
    assert anna["name"] == "Anna Schmidt" and anna["attributes"] == {"city": "Berlin"}
    assert anna["consent"]["marketing"] is True and anna["consent"]["import_id"] == report["id"]
    assert [t["name"] for t in anna["tags"]] == ["interest:cosmetics"]
    ben = api(runtime).get("/v1/customers/4915123456788").json()  # national number read in DE
    assert ben["name"] == "Ben Müller" and ben["consent"]["marketing"] is False


def test_imported_customers_are_found_by_name_and_phone_search(runtime):
    import_csv(runtime, SHOP_CSV.encode())
    by_name = api(runtime).get("/v1/customers", params={"q": "anna"}).json()["customers"]
    assert [c["name"] for c in by_name] == ["Anna Schmidt"]
    by_phone = api(runtime).get("/v1/customers", params={"q": "+49 151 2345678"}).json()["customers"]
    assert {c["name"] for c in by_phone} == {"Anna Schmidt", "Ben Müller"}  # Cleo's row failed (unknown tag)
    renamed = "phone;name;consent\r\n+4915123456788;Benedikt Müller;nein\r\n"
    assert import_csv(runtime, renamed.encode())["updated"] == 1
    found = api(runtime).get("/v1/customers", params={"q": "benedikt"}).json()["customers"]
    assert [c["name"] for c in found] == ["Benedikt Müller"]


def test_a_windows_excel_file_goes_up_through_the_presigned_link_and_starts_by_itself(runtime):
    started = api(runtime).post("/v1/imports", json={"filename": "kunden.csv", "default_country": "AT"})
    assert started.status_code == 202
    link = started.json()["upload_url"]
    assert link.startswith(runtime.url + "/_s3/")
    body = "Telefon;Name\r\n0664 1234567;Jürgen Groß\r\n".replace("Telefon", "phone").encode("cp1252")
    assert httpx.put(link, content=body).status_code == 200
    runtime.drain()
    report = api(runtime).get(f"/v1/imports/{started.json()['id']}").json()
    assert report["state"] == "done" and report["encoding"] == "cp1252" and report["imported"] == 1
    assert "errors_url" not in report
    assert api(runtime).get("/v1/customers/+436641234567").json()["name"] == "Jürgen Groß"


def test_the_fourth_import_within_an_hour_is_a_429_that_says_why(runtime):
    for _ in range(3):
        assert api(runtime).post("/v1/imports", json={"filename": "a.csv"}).status_code == 202
    refused = api(runtime).post("/v1/imports", content=b"phone\n+4915123456789\n", headers={"content-type": "text/csv"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "import_rate_limited"
    assert "at most 3 imports an hour" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"", {}, 400, "missing_body"),
        (b"", {"content-type": "text/csv"}, 400, "empty_csv"),
        (b"   \n", {"content-type": "text/csv"}, 400, "empty_csv"),
        (b'{"filename": "a.csv", "delimiter": ";"}', {"content-type": "application/json"}, 400, "validation_error"),
        (
            b'{"filename": "a.csv", "default_country": "XX"}',
            {"content-type": "application/json"},
            400,
            "invalid_country",
        ),
        (b"phone\n1\n", {"content-type": "text/plain"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_import_requests_are_refused_and_start_nothing(runtime, body, headers, status, code):
    response = api(runtime).post("/v1/imports", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert api(runtime).post("/v1/imports", json={"filename": "a.csv"}).status_code == 202  # none was counted


def test_unknown_imports_and_exports_are_404(runtime):
    assert api(runtime).get("/v1/imports/imp_nothing").json()["error"]["code"] == "import_not_found"
    assert api(runtime).get("/v1/exports/exp_nothing").json()["error"]["code"] == "export_not_found"
    missing = api(runtime).post("/v1/segments/seg_nothing/export")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "segment_not_found"


def test_a_worker_crash_mid_chunk_is_retried_by_the_queue_and_counts_each_row_once(runtime):
    from engage import wiring

    calls = {"n": 0}

    def crash_on_the_second_transaction(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed mid-chunk")

    rows = "phone,name\n" + "".join(f"+491512{i:07d},Customer {i}\n" for i in range(120))
    events = wiring.aws.table().client.meta.events
    events.register("before-call.dynamodb.TransactWriteItems", crash_on_the_second_transaction)
    try:
        report = import_csv(runtime, rows.encode())
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", crash_on_the_second_transaction)
    assert calls["n"] > 2  # the chunk ran again after the crash
    assert report["state"] == "done"
    assert (report["processed"], report["imported"], report["updated"], report["duplicates"]) == (120, 120, 0, 0)
    assert api(runtime).get("/v1/customers/+4915120000119").json()["name"] == "Customer 119"


def test_a_segment_export_writes_its_members_as_csv(runtime):
    import_csv(
        runtime,
        (
            b"phone,name,tags,consent\n"
            b"+4915123456789,Anna,interest:cosmetics,yes\n"
            b"+4915123456788,Ben,,yes\n"
            b"+4915123456787,Cleo,interest:cosmetics,no\n"
        ),
    )
    segment = api(runtime).post("/v1/segments", json={"name": "Cosmetics fans", "rule": "interest:cosmetics"})
    assert segment.status_code == 201, segment.text
    started = api(runtime).post(f"/v1/segments/{segment.json()['id']}/export")
    assert started.status_code == 202
    assert api(runtime).get(f"/v1/exports/{started.json()['id']}").json()["state"] == "queued"
    runtime.drain()
    export = api(runtime).get(f"/v1/exports/{started.json()['id']}").json()
    assert export["state"] == "done" and export["rows"] == 2
    download = httpx.get(export["download_url"])
    assert "Cosmetics fans.csv" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted((r["phone"], r["name"], r["marketing_consent"]) for r in rows) == [
        ("+4915123456787", "Cleo", "no"),
        ("+4915123456789", "Anna", "yes"),
    ]

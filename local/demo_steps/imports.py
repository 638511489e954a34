"""Imports: the shop brings its customer list in as a CSV (German Excel: semicolons, a BOM) and reads the report."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

# The sample shop's customer list, as its old newsletter tool exported it. Four of them write in on
# WhatsApp in the next steps and are found, not created again; some rows have the usual mistakes.
SHOP_CUSTOMERS = """phone;name;tags;consent;consent_source;city;customer_since
+49 151 12340001;Lena Vogel;source:instagram;nein;;Hamburg;2023-04-02
+34 612 34 00 02;Lucía Gómez;power:premium;no;;Madrid;2024-01-15
+44 7911 123456;Harry Wilson;;yes;Till receipt;London;2022-11-30
+33 6 12 34 00 04;Chloé Martin;value:quality-seeker;non;;Lyon;2024-06-01
0151 12340005;Jonas Weber;source:instagram,power:premium;nein;;Berlin;2021-09-12
+49 151 12340007;Mia Schneider;power:premium;ja;Checkout-Häkchen;München;2024-03-03
+49 151 12340008;Noah Fischer;;ja;Newsletter-Formular;Köln;2022-08-08
+49 151 1234;Kurz Nummer;;ja;;Bonn;2024-01-01
+49 151 12340007;Mia S. (doppelt);;ja;;München;2024-03-03
+49 151 12340010;Emma Wagner;interest:kosmetik;ja;;Stuttgart;2023-07-07
+49 151 12340011;Paul Becker;;;;Dresden;2023-05-05
"""


def run(demo: Any) -> None:
    demo.say("The shop uploads its customer list: a CSV as German Excel saves it (semicolons, UTF-8 with BOM).")
    body = b"\xef\xbb\xbf" + SHOP_CUSTOMERS.replace("\n", "\r\n").encode()
    started = demo.client.post("/v1/imports", content=body, headers={**demo.marketer, "content-type": "text/csv"})
    demo.expect(started.status_code == 202, f"POST /v1/imports answered {started.status_code}: {started.text}")
    import_id = started.json()["id"]
    demo.say(f"  POST /v1/imports -> 202 {import_id}; S3 starts the import, chunks go through the queue")
    demo.drain()
    response = demo.client.get(f"/v1/imports/{import_id}", headers=demo.marketer)
    demo.expect(response.status_code == 200, f"GET /v1/imports/{import_id} answered {response.status_code}")
    report = response.json()
    demo.expect(report["state"] == "done", f"the import is {report['state']}: {report.get('error')}")
    demo.say(
        f"  report: {report['rows']} rows ({report['encoding']}, {report['delimiter']!r}), "
        f"{report['imported']} imported, {report['updated']} updated, {report['failed_total']} failed"
    )
    for reason, count in report["failed"].items():
        if count:
            demo.say(f"    {reason:<16} {count}")
    failed = list(csv.reader(io.StringIO(httpx.get(report["errors_url"]).text)))
    demo.say(f"  the failed rows, downloadable from errors_url ({len(failed) - 1} rows):")
    for row in failed[1:]:
        demo.say(f"    row {row[0]:>2} {row[1]:<16} {row[2]}")
    mia = demo.client.get("/v1/customers/+4915112340007", headers=demo.marketer).json()
    demo.say(
        f"  {mia['name']}: consent {mia['consent']['marketing']} from {mia['consent']['source']!r}, "
        f"tags {[t['name'] for t in mia['tags']]}, attributes {mia['attributes']}"
    )

"""GET /v1/customers (search, paging with cursors) and GET /v1/customers/{ref}/history through the api
handler on moto."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FakeLambdaContext
from tests.helpers.events import http_event
from tests.helpers.streams import history_item, stream_event


def call(method, path, body=None, groups="marketer", query=None):
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, groups=groups, query=query), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def upsert(phone, name, consent=True):
    status, body = call("POST", "/v1/customers", {"phone": phone, "name": name, "marketing_consent": consent})
    assert status in (200, 201), body
    return body["id"]


def every_page(query, limit):
    """Follows the cursors to the end; returns each page's customers."""
    pages, cursor = [], None
    while True:
        status, body = call(
            "GET", "/v1/customers", query={**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200, body
        pages.append(body["customers"])
        cursor = body["cursor"]
        if not cursor:
            return pages


@pytest.fixture
def shop(aws):
    """25 customers: 12 named Anna <n> (German numbers 49151...), 13 named Boris <n> (French 3361...);
    every third one without consent; the even ones tagged interest:yoga by hand."""
    status, body = call("POST", "/v1/tags", {"name": "interest:yoga"}, groups="admin")
    assert status == 201, body
    ids = {}
    for n in range(25):
        if n < 12:
            phone, name = f"+49 151 2345 67{n:02d}", f"Anna {n:02d}"
        else:
            phone, name = f"+33 6 12 34 56 {n:02d}", f"Böris {n:02d}"
        ids[n] = upsert(phone, name, consent=n % 3 != 0)
        if n % 2 == 0:
            status, body = call("POST", f"/v1/customers/{ids[n]}/tags", {"tag": "interest:yoga", "reason": "asked"})
            assert status in (200, 201), body
    return ids


def test_a_name_prefix_pages_through_every_match_once_in_name_order(shop):
    pages = every_page({"q": "anna"}, limit=5)
    names = [c["name"] for page in pages for c in page]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert names == [f"Anna {n:02d}" for n in range(12)]


def test_name_search_ignores_case_and_accents(shop):
    pages = every_page({"q": "BORIS 1"}, limit=50)
    assert [c["name"] for c in pages[0]] == [f"Böris {n}" for n in range(12, 20)]


def test_a_phone_prefix_finds_the_numbers_however_typed(shop):
    for typed in ("+49 151", "0049151", "49151"):
        pages = every_page({"q": typed}, limit=7)
        assert len([c for page in pages for c in page]) == 12, typed
    one = every_page({"q": "+49 151 2345 6705"}, limit=10)
    assert [c["name"] for c in one[0]] == ["Anna 05"]


def test_a_one_digit_prefix_walks_its_partitions_in_number_order(shop):
    pages = every_page({"q": "+3"}, limit=4)
    numbers = [c["wa_id"] for page in pages for c in page]
    assert len(numbers) == 13 and numbers == sorted(numbers)


def test_tag_and_consent_filters_combine_and_page(shop):
    pages = every_page({"tag": "interest:yoga", "consent": "true"}, limit=3)
    found = sorted(c["id"] for page in pages for c in page)
    assert found == sorted(shop[n] for n in range(25) if n % 2 == 0 and n % 3 != 0)
    without = every_page({"q": "anna", "consent": "false"}, limit=50)
    assert [c["name"] for c in without[0]] == ["Anna 00", "Anna 03", "Anna 06", "Anna 09"]


def test_the_whole_base_pages_without_repeats(shop):
    pages = every_page({}, limit=10)
    ids = [c["id"] for page in pages for c in page]
    assert sorted(ids) == sorted(shop.values()) and len(ids) == len(set(ids))


def test_a_saved_segment_lists_its_members(shop):
    status, segment = call("POST", "/v1/segments", {"name": "Yoga", "rule": "tag:interest:yoga AND consent:marketing"})
    assert status == 201, segment
    pages = every_page({"segment_id": segment["id"], "q": "anna"}, limit=2)
    found = [c for page in pages for c in page]
    # a segment's members come in id order (the audience's order), each once
    assert [c["id"] for c in found] == sorted(shop[n] for n in (2, 4, 8, 10))


def test_a_cursor_only_works_for_the_search_that_gave_it(shop):
    status, body = call("GET", "/v1/customers", query={"q": "anna", "limit": "2"})
    assert status == 200 and body["cursor"]
    status, body = call("GET", "/v1/customers", query={"q": "boris", "cursor": body["cursor"]})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
    status, body = call("GET", "/v1/customers", query={"q": "anna", "cursor": "abc.def"})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"limit": "0"}, "bad_query"),
        ({"limit": "many"}, "bad_query"),
        ({"consent": "yes"}, "bad_query"),
        ({"q": "   "}, None),  # blank q: no filter
        ({"tag": "nodimension"}, "invalid_tag"),
        ({"segment_id": "seg_missing"}, "segment_not_found"),
    ],
)
def test_bad_search_parameters_are_4xx(shop, query, code):
    status, body = call("GET", "/v1/customers", query=query)
    if code is None:
        assert status == 200
    else:
        assert 400 <= status < 500 and body["error"]["code"] == code


def test_listing_customers_needs_a_signed_in_caller(aws):
    status, body = call("GET", "/v1/customers", groups=None)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


# ---------------------------------------------------------------- RFM and lifecycle in responses
def test_customer_responses_show_rfm_scores_and_lifecycle(aws):
    from engage import wiring

    cid = upsert("+49 151 2345 6789", "Asha")
    rfm = {"r": 5, "f": 4, "m": 3, "score": 543, "group": "vip"}
    wiring.customers.repository().update(cid, rfm=rfm, clock_tags=["lifecycle:new", "activity:active", "rfm:vip"])
    for tag in ("lifecycle:new", "activity:active", "rfm:vip"):
        wiring.aws.table().put(
            {"pk": f"CUST#{cid}", "sk": f"TAG#{tag}", "gsi1pk": f"TAG#{tag}", "gsi1sk": f"CUST#{cid}",
             "customer_id": cid, "name": tag, "since": "2026-11-01T00:00:00Z", "source": "system"}
        )  # fmt: skip
    status, one = call("GET", f"/v1/customers/{cid}")
    assert status == 200
    assert one["rfm"] == rfm
    assert one["lifecycle"]["stage"] == "new" and one["lifecycle"]["rfm_group"] == "vip"
    assert one["lifecycle"]["activity"] == "active"
    status, listed = call("GET", "/v1/customers", query={"q": "asha"})
    assert listed["customers"][0]["rfm"] == rfm
    assert listed["customers"][0]["lifecycle"]["stage"] == "new"


# ---------------------------------------------------------------- history
def test_history_is_newest_first_across_kinds_and_pages_without_gaps(aws, lambda_context):
    from engage import wiring
    from functions.tagger import app as tagger

    cid = upsert("+49 151 2345 6789", "Asha")
    table = wiring.aws.table()
    items = [
        history_item(cid, "message", "wamid.1", "2026-11-20T09:00:00Z", type="text", text="Hallo, Rabatt?"),
        history_item(cid, "link_clicked", "r-1", "2026-11-21T10:00:00Z", url="https://s/x", label="Shop"),
        history_item(
            cid, "order_placed", "o-1", "2026-11-22T11:00:00Z", order_id="1",
            items=[{"product": "Rouge Lipstick", "category": "cosmetics", "price": 20, "quantity": 1}],
            total=20, currency="EUR",
        ),
        history_item(cid, "journey_entered", "welcome-1", "2026-11-23T08:00:00Z", journey="welcome"),
    ]  # fmt: skip
    for item in items:
        table.put(item)
    tagger.lambda_handler(stream_event(items), lambda_context)
    table.put(
        {"pk": f"CUST#{cid}", "sk": "SEND#camp-1", "type": "send", "customer_id": cid, "send_key": "camp-1",
         "campaign_id": "camp-1", "state": "sent", "status": "read", "intent_at": "2026-11-21T09:30:00Z",
         "sent_at": "2026-11-21T09:30:01Z", "read_at": "2026-11-21T09:40:00Z", "clicked_at": "2026-11-21T10:00:00Z"}
    )  # fmt: skip

    entries, cursor, pages = [], None, 0
    while True:
        status, body = call(
            "GET", f"/v1/customers/{cid}/history", query={"limit": "3", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200, body
        entries += body["entries"]
        pages += 1
        cursor = body["cursor"]
        if not cursor:
            break
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "journey_entered"  # a kind this page never heard of, shown with its data
    assert entries[0]["data"] == {"journey": "welcome"}
    assert {"message", "link_clicked", "order_placed", "send", "tag_added"} <= set(kinds)
    send = next(e for e in entries if e["kind"] == "send")
    assert (send["direction"], send["status"], send["clicked_at"]) == ("out", "read", "2026-11-21T10:00:00Z")
    assert next(e for e in entries if e["kind"] == "message")["direction"] == "in"
    bought = next(e for e in entries if e["kind"] == "tag_added" and e["tag"] == "product:rouge-lipstick")
    assert bought["by"] == "rule:or-order-effects" and "order 1" in bought["reason"]
    keys = [json.dumps(e, sort_keys=True) for e in entries]
    assert len(keys) == len(set(keys)) and pages == -(-len(entries) // 3)


def test_history_of_an_unknown_customer_is_404_and_a_foreign_cursor_400(aws):
    status, body = call("GET", "/v1/customers/4915000000000/history")
    assert (status, body["error"]["code"]) == (404, "customer_not_found")
    cid = upsert("+49 151 2345 6789", "Asha")
    status, body = call("GET", f"/v1/customers/{cid}/history", query={"cursor": "2026-11-20T09:00:00Z|EVT#x.sig"})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


# ---------------------------------------------------------------- customers written before the indexes
def test_the_index_job_makes_older_customers_searchable_once(aws, lambda_context):
    import boto3

    from engage import wiring
    from functions.scheduler import app as scheduler
    from tests.helpers.sqs import drain

    # Given customers stored as before the search indexes (no gsi1 on profiles and phone identities)
    ids = [upsert(f"+49 151 2345 67{n:02d}", f"Zoë {n:02d}") for n in range(30)]
    table = wiring.aws.table()
    for cid in ids:
        profile = table.get(f"CUST#{cid}", "PROFILE")
        table.put({k: v for k, v in profile.items() if k not in ("gsi1pk", "gsi1sk")})
        identity = table.get(f"WAID#{profile['wa_id']}", "IDENTITY")
        table.put({k: v for k, v in identity.items() if k not in ("gsi1pk", "gsi1sk")})
    assert every_page({"q": "zoe"}, limit=50) == [[]]
    assert every_page({"q": "+49151"}, limit=50) == [[]]

    # When the job runs (its pages through the PassQueue, as in AWS)
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = aws.queues["PassQueue"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert scheduler.lambda_handler({"schedule": "customer-search-index"}, lambda_context) == {"pages": 16}
    assert len(drain(sqs, url, arn, scheduler.lambda_handler, lambda_context)) >= 2
    # and a page run again (a redelivery, or the job run twice) writes nothing more
    repair = wiring.audience.index_repair()
    assert sum(repair.repair_page(shard, None, 500)[0] for shard in range(16)) == 0

    # Then every one of them is found by name and by number, each once
    by_name = [c["id"] for page in every_page({"q": "zoe"}, limit=7) for c in page]
    assert sorted(by_name) == sorted(ids)
    by_number = [c["id"] for page in every_page({"q": "+49151"}, limit=50) for c in page]
    assert sorted(by_number) == sorted(ids)

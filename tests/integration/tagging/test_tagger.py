"""The tagger on DynamoDB stream events, on moto: rules fire, replays change nothing."""

from __future__ import annotations

import copy

import pytest

from engage.core.time import parse_iso
from tests.conftest import load_event
from tests.helpers.streams import history_item, stream_event

CID = "c_0123456789abcdef0123456789abcdef"


@pytest.fixture
def tagger(aws):
    from engage import wiring
    from engage.customers.profiles import Customer
    from functions.tagger import app

    wiring.customers.repository().create(Customer(id=CID, wa_id="4915123456789", first_seen_at="2026-11-01T00:00:00Z"))
    return app


def put_and_stream(items):
    from engage import wiring

    for item in items:
        wiring.aws.table().put(item)
    return stream_event(items)


def tags_of(customer_id=CID):
    from engage import wiring

    return {m["name"]: m for m in wiring.tagging.memberships().of_customer(customer_id)}


def log_of(customer_id=CID):
    from engage import wiring

    return list(wiring.aws.table().query(f"CUST#{customer_id}", sk_prefix="TAGLOG#"))


def test_sample_messages_tag_price_sensitive_and_price_asked(tagger, lambda_context):
    # Given the sample stream batch: "Rabatt" in a text, "Wie viel kostet" in a button reply
    event = load_event("tagger/inbound_messages")
    # When the tagger runs
    result = tagger.lambda_handler(event, lambda_context)
    # Then both records succeed and both keyword rules fired, with their reasons and sources
    assert result == {"batchItemFailures": []}
    tags = tags_of()
    assert tags["interest:price-sensitive"]["source"] == "rule:kw-price-sensitive"
    assert "rabatt" in tags["interest:price-sensitive"]["reason"].lower()
    assert tags["intent:price-asked"]["since"] == "2026-11-23T10:16:00Z"
    assert tags["intent:price-asked"]["expires_at"] == int(parse_iso("2026-11-30T10:16:00Z").timestamp())


def test_the_same_batch_twice_changes_nothing(tagger, lambda_context):
    event = load_event("tagger/clicks_then_order")
    tagger.lambda_handler(event, lambda_context)
    tags, log = tags_of(), log_of()
    assert "bought:2026-11:silk-scarf" in tags
    # When the very same batch is delivered again (stream retry or replay)
    assert tagger.lambda_handler(copy.deepcopy(event), lambda_context) == {"batchItemFailures": []}
    # Then memberships and the log are exactly as before
    assert tags_of() == tags
    assert log_of() == log


def test_two_clicks_in_seven_days_without_purchase_give_high_intent(tagger, lambda_context):
    items = [
        history_item(CID, "link_clicked", "c1", "2026-11-16T10:00:00Z", url="https://s/x", label="Shop"),
        history_item(CID, "link_clicked", "c2", "2026-11-23T10:00:00Z", url="https://s/y", label="Shop"),
    ]
    tagger.lambda_handler(put_and_stream(items), lambda_context)
    assert tags_of()["intent:high"]["reason"] == "2 link clicked events in 7 days"


def test_a_click_seven_days_and_one_second_ago_does_not_count(tagger, lambda_context):
    items = [
        history_item(CID, "link_clicked", "c1", "2026-11-16T09:59:59Z", url="https://s/x", label="Shop"),
        history_item(CID, "link_clicked", "c2", "2026-11-23T10:00:00Z", url="https://s/y", label="Shop"),
    ]
    tagger.lambda_handler(put_and_stream(items), lambda_context)
    assert "intent:high" not in tags_of()


def test_an_order_removes_abandoned_cart_and_adds_bought(tagger, lambda_context):
    items = [
        history_item(CID, "cart_abandoned", "cart-1", "2026-11-22T10:00:00Z", cart_id="1"),
        history_item(
            CID,
            "order_placed",
            "o-1",
            "2026-11-23T10:00:00Z",
            order_id="1",
            items=[{"product": "Rouge Lipstick", "category": "cosmetics", "price": 20, "quantity": 1}],
            total=20,
            currency="EUR",
        ),
    ]
    tagger.lambda_handler(put_and_stream(items[:1]), lambda_context)
    assert "cart:abandoned" in tags_of()
    tagger.lambda_handler(put_and_stream(items[1:]), lambda_context)
    tags = tags_of()
    assert "cart:abandoned" not in tags
    assert tags["bought:2026-11:rouge-lipstick"]["source"] == "rule:or-order-effects"
    assert "stage:purchased" in tags
    changes = [(e["tag"], e["change"], e["by"]) for e in log_of()]
    assert ("cart:abandoned", "removed", "rule:or-order-effects") in changes


def test_records_other_than_history_inserts_are_ignored(tagger, lambda_context):
    event = stream_event([{"pk": f"CUST#{CID}", "sk": "PROFILE", "type": "customer", "id": CID}])
    assert tagger.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert tags_of() == {}


def test_shop_events_reach_the_tagger_through_the_table_stream(aws, lambda_context):
    # Given three views of one category and an order posted to the API
    import json as _json

    from engage import wiring
    from functions.api import app as api
    from functions.tagger import app as tagger
    from tests.helpers.events import http_event
    from tests.helpers.streams import table_stream_event

    customer = {"wa_id": "4915123456789"}
    for n, when in enumerate(["2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z", "2026-11-22T10:00:00Z"]):
        body = {"id": f"v{n}", "type": "product_viewed", "occurred_at": when, "customer": customer,
                "data": {"product": f"p{n}", "category": "Cosmetics"}}  # fmt: skip
        assert (
            api.lambda_handler(http_event("POST", "/v1/events", body=body, groups="marketer"), lambda_context)[
                "statusCode"
            ]
            == 202
        )
    # When the tagger reads the table's own stream
    event, _ = table_stream_event(aws.stream_arn)
    assert len(event["Records"]) == 3
    assert tagger.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    # Then the category rule tagged the customer, and the catalog's dynamic tag holds it
    cid = wiring.customers.repository().find_id(wa_id="4915123456789")
    held = tags_of(cid)
    assert held["interest:cosmetics"]["source"] == "rule:bh-interest-category"
    assert "3 product viewed events" in held["interest:cosmetics"]["reason"]
    response = api.lambda_handler(http_event("GET", "/v1/customers/4915123456789", groups="marketer"), lambda_context)
    assert [t["name"] for t in _json.loads(response["body"])["tags"]] == ["interest:cosmetics"]


def test_a_broken_record_fails_alone_and_is_reported_for_retry(tagger, lambda_context):
    good = history_item(CID, "message", "w-ok", "2026-11-23T10:00:00Z", type="text", text="discount?")
    broken = {**history_item(CID, "message", "w-bad", "2026-11-23T10:01:00Z", type="text", text="x")}
    broken.pop("occurred_at")
    event = put_and_stream([good, broken])
    result = tagger.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]}
    assert "interest:price-sensitive" in tags_of()

"""Hostile webhook content through the real handler on moto: always 200, and one bad message never
costs the others of the same notification (docs/webhook.md, Bounds and isolation)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers.whatsapp import contact, message, notification, signed_webhook_event, text

COUNTER = itertools.count()
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
NASTY_TEXT = st.lists(st.one_of(st.characters(), SURROGATES), max_size=40).map("".join)


def handle(event: dict, context: Any) -> dict:
    from functions.webhook import app

    return app.lambda_handler(event, context)


def table(aws: Any) -> Any:
    return boto3.resource("dynamodb").Table(aws.table_name)


def stored_wamids(aws: Any, wa_id: str) -> set[str]:
    from engage import wiring

    customer_id = wiring.customers.repository().find_id(wa_id=wa_id)
    if customer_id is None:
        return set()
    items = table(aws).query(KeyConditionExpression=Key("pk").eq(f"CUST#{customer_id}") & Key("sk").begins_with("EVT#"))
    return {item["event_id"] for item in items["Items"]}


DEEP = "__nested_this_deep__"


def encode(body: dict[str, Any]) -> bytes:
    """Meta's bytes of `body`, with every `"__nested_this_deep__<n>"` replaced by n levels of nesting
    (as text: Python's own encoder would hit its recursion limit first)."""
    raw = json.dumps(body, allow_nan=True)
    for marker in re.findall(rf'"{DEEP}(\d+)"', raw):
        depth = int(marker)
        raw = raw.replace(f'"{DEEP}{marker}"', '{"x": [' * depth + '"bottom"' + "]}" * depth, 1)
    return raw.encode()


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"x": value}
    return value


def hostile(kind: str, n: int, payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a hostile message, its contact) of a kind, from its own sender."""
    wa_id, wamid = f"49151{n:08d}", f"wamid.hostile.{n}"
    person = contact(wa_id=wa_id, user_id=f"DE.{n:019d}", name=f"Hostile {n}")
    if kind == "text":
        return text(str(payload), wamid=wamid, wa_id=wa_id, user_id=person["user_id"]), person
    if kind == "size":
        return text("x" * int(payload), wamid=wamid, wa_id=wa_id, user_id=person["user_id"]), person
    if kind == "name":
        person["profile"]["name"] = str(payload) * 200
        return text("hello", wamid=wamid, wa_id=wa_id, user_id=person["user_id"]), person
    if kind == "depth":
        return message("interactive", f"{DEEP}{payload}", wamid=wamid, wa_id=wa_id, user_id=person["user_id"]), person
    if kind == "number":
        location = {"latitude": payload, "longitude": payload, "name": "x"}
        return message("location", location, wamid=wamid, wa_id=wa_id, user_id=person["user_id"]), person
    if kind == "unknown":
        return message("poll", {str(payload): [nested(10)] * 300}, wamid=wamid, wa_id=wa_id), person
    if kind == "sender":
        return text("hi", wamid=wamid, wa_id=str(payload), user_id=""), contact(wa_id=str(payload), user_id="")
    if kind == "wamid":
        return text("hi", wamid=f"wamid.{payload}" * 50, wa_id=wa_id, user_id=person["user_id"]), person
    return message("text", payload, wamid=wamid, wa_id=wa_id, user_id=person["user_id"]), person  # "shape"


HOSTILE = st.one_of(
    st.tuples(st.just("text"), NASTY_TEXT),
    st.tuples(st.just("size"), st.integers(4_000, 400_000)),
    st.tuples(st.just("name"), NASTY_TEXT.filter(bool)),
    st.tuples(st.just("depth"), st.integers(20, 5_000)),
    st.tuples(st.just("number"), st.sampled_from([float("inf"), float("nan"), 10**60, 1e130, 5e-324, -1e300])),
    st.tuples(st.just("unknown"), NASTY_TEXT),
    st.tuples(st.just("sender"), st.sampled_from(["PHONE_NUMBER", "REDACTED", "+4915123", "1" * 3000, "\ud800"])),
    st.tuples(st.just("wamid"), NASTY_TEXT),
    st.tuples(st.just("shape"), st.sampled_from([[], "text", 7, None, {"body": {"nested": True}}, {"body": 1e400}])),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostiles=st.lists(HOSTILE, min_size=1, max_size=3), good=st.integers(1, 3), position=st.integers(0, 5))
@example(hostiles=[("size", 1_200_000)], good=2, position=1)
@example(hostiles=[("depth", 100_000)], good=1, position=0)
@example(hostiles=[("text", "\udb39 lone"), ("name", "\udc00")], good=2, position=1)
def test_hostile_messages_answer_200_and_the_others_are_stored(aws, lambda_context, hostiles, good, position):
    # Given a notification of good messages with hostile ones among them (each from its own sender)
    run = next(COUNTER)
    goods = [(f"4915{run:04d}{i:05d}", f"wamid.good.{run}.{i}") for i in range(good)]
    messages = [text(f"hello {i}", wamid=wamid, wa_id=wa_id, user_id="") for i, (wa_id, wamid) in enumerate(goods)]
    contacts = [contact(wa_id=wa_id, user_id="", name=f"Good {i}") for i, (wa_id, _) in enumerate(goods)]
    for offset, (kind, payload) in enumerate(hostiles):
        bad, person = hostile(kind, run * 10 + offset, payload)
        messages.insert(min(position, len(messages)), bad)
        contacts.append(person)
    body = notification({"contacts": contacts, "messages": messages})

    # When Meta posts it, signed
    response = handle(signed_webhook_event(encode(body)), lambda_context)

    # Then the answer is 200 and every good message is stored
    assert response["statusCode"] == 200, response
    for wa_id, wamid in goods:
        assert wamid in stored_wamids(aws, wa_id)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["text", "name", "wamid", "unknown"]), payload=NASTY_TEXT)
def test_a_hostile_status_or_preference_beside_a_good_message_does_not_cost_it(aws, lambda_context, kind, payload):
    run = next(COUNTER)
    wa_id, wamid = f"4916{run:09d}", f"wamid.beside.{run}"
    status = {"id": f"wamid.{payload}" * (1 if kind != "wamid" else 80), "status": payload or "sent", "timestamp": "1"}
    status["recipient_id"] = payload
    preference = {"wa_id": payload, "user_id": payload, "value": "stop", "category": "marketing_messages"}
    body = notification(
        {
            "contacts": [contact(wa_id=wa_id, user_id="")],
            "messages": [text("hi", wamid=wamid, wa_id=wa_id, user_id="")],
        },
        {"statuses": [status]},
    )
    body["entry"][0]["changes"].append(
        notification({"user_preferences": [preference]}, field="user_preferences")["entry"][0]["changes"][0]
    )
    response = handle(signed_webhook_event(body), lambda_context)
    assert response["statusCode"] == 200, response
    assert wamid in stored_wamids(aws, wa_id)


def test_what_was_cut_is_flagged_and_the_raw_notification_is_kept_bounded(aws, lambda_context):
    # Given a 1.2 MB text with a lone surrogate beside a good message
    body = notification(
        {
            "contacts": [contact(wa_id="4915100000001", user_id="", name="N\udc00" * 1000)],
            "messages": [text("\ud800" + "y" * 1_200_000, wamid="wamid.big", wa_id="4915100000001", user_id="")],
        }
    )
    response = handle(signed_webhook_event(body), lambda_context)
    assert response["statusCode"] == 200
    report = json.loads(response["body"])
    assert report["messages"] == 1 and report["truncated"] == 1

    # Then the history item holds 4,096 characters with `truncated`, the name 256, no lone surrogate
    from engage import wiring

    customer_id = wiring.customers.repository().find_id(wa_id="4915100000001")
    [item] = table(aws).query(
        KeyConditionExpression=Key("pk").eq(f"CUST#{customer_id}") & Key("sk").begins_with("EVT#")
    )["Items"]
    assert item["data"]["truncated"] is True
    assert item["data"]["text"] == "\ufffd" + "y" * 4095
    assert len(item["data"]["name"]) == 256 and item["data"]["name"].startswith("N\ufffd")
    profile = table(aws).get_item(Key={"pk": f"CUST#{customer_id}", "sk": "PROFILE"})["Item"]
    assert len(profile["name"]) == 256

    # And the raw notification is kept for inspection, itself bounded
    [raw] = table(aws).query(KeyConditionExpression=Key("pk").eq("WEBHOOK#RAW"))["Items"]
    assert raw["truncated"] is True and len(raw["content"]) == 350_000 and raw["size"] > 1_200_000


def test_a_rejected_message_is_kept_with_its_reason(aws, lambda_context):
    body = notification(
        {
            "contacts": [contact(wa_id="4915100000002", user_id="")],
            "messages": [
                text("hi", wamid="w" * 600, wa_id="4915100000002", user_id=""),
                text("fine", wamid="wamid.fine", wa_id="4915100000002", user_id=""),
            ],
        }
    )
    report = json.loads(handle(signed_webhook_event(body), lambda_context)["body"])
    assert report["messages"] == 1 and report["rejected"] == 1
    [kept] = table(aws).query(KeyConditionExpression=Key("pk").eq("WEBHOOK#REJECTED"))["Items"]
    content = json.loads(kept["content"])
    assert content["where"] == "messages[0]" and "512" in content["reason"]


def test_a_storage_outage_still_answers_5xx_so_meta_retries(aws, lambda_context, monkeypatch):
    from botocore.exceptions import ClientError

    from engage.adapters.dynamo.table import Table

    def throttled(self, *args, **kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
        )

    monkeypatch.setattr(Table, "put", throttled)
    body = notification({"contacts": [contact()], "messages": [text("hi", wamid="wamid.outage")]})
    try:
        status = handle(signed_webhook_event(body), lambda_context)["statusCode"]
    except ClientError:
        status = 500
    assert status == 500

"""Reply attribution downstream: the webhook stores the reply, the stream record reaches `attribute_reply`."""

from __future__ import annotations

import boto3
import pytest

from engage.core.time import parse_iso
from tests.conftest import load_event
from tests.helpers.whatsapp import inbound, signed_webhook_event, text

CID = "c_0123456789abcdef0123456789abcdef"
SENT = "wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABEYEjA1QkYyNkNBTVBBSUdOMDAxAA=="
NOW = parse_iso("2026-11-23T10:15:31Z")


def table(aws):
    return boto3.resource("dynamodb").Table(aws.table_name)


@pytest.fixture
def sends(aws):
    """Asha with two campaign sends: camp_bf26 (quoted by the sample reply) and a later camp_cyber."""
    from engage import wiring
    from engage.customers.profiles import Customer

    wiring.customers.repository().create(Customer(id=CID, wa_id="4915123456789", user_id="DE.1000000000000000001"))
    for key, wamid, sent_at in (
        ("camp_bf26", SENT, "2026-11-22T10:00:00Z"),
        ("camp_cyber", "wamid.cyber", "2026-11-23T08:00:00Z"),
    ):
        item = {"pk": f"CUST#{CID}", "sk": f"SEND#{key}", "type": "send", "customer_id": CID, "send_key": key}
        item |= {"campaign_id": key, "wamid": wamid, "status": "delivered", "status_rank": 2, "sent_at": sent_at}
        table(aws).put_item(Item=item)  # as the sender writes them now: no WAMID# pointer
    return lambda key: table(aws).get_item(Key={"pk": f"CUST#{CID}", "sk": f"SEND#{key}"})["Item"]


def stream_records(aws) -> list[dict]:
    """The table's stream as the tagger's Lambda would receive it (records of every write so far)."""
    streams = boto3.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=aws.stream_arn)["StreamDescription"]["Shards"]
    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=aws.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            record["eventSourceARN"] = aws.stream_arn
            record["dynamodb"]["ApproximateCreationDateTime"] = int(
                record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
            )
            records.append(record)
    return records


def attribute_all(aws) -> list:
    from engage import wiring
    from engage.inbound.replies import load_reply_config
    from tests.helpers.streams import attribute_stream_record

    store = wiring.inbound.messages()
    config = load_reply_config(store)
    results = [attribute_stream_record(store, record, NOW, config=config) for record in stream_records(aws)]
    return [r for r in results if r is not None]


def handle(event, context) -> None:
    from functions.webhook import app

    assert app.lambda_handler(event, context)["statusCode"] == 200


def test_a_reply_quoting_a_campaign_message_is_attributed_to_that_send(aws, lambda_context, sends):
    handle(load_event("webhook/inbound_reply"), lambda_context)
    [attribution] = attribute_all(aws)
    assert (attribution.ref.send_key, attribution.how) == ("camp_bf26", "context")
    assert sends("camp_bf26")["replied_at"] == "2026-11-23T10:00:00Z"
    assert "replied_at" not in sends("camp_cyber")


def test_a_reply_without_context_goes_to_the_latest_campaign_send_in_the_window(aws, lambda_context, sends):
    handle(signed_webhook_event(inbound(text("Is this still on?", wamid="wamid.free"))), lambda_context)
    [attribution] = attribute_all(aws)
    assert (attribution.ref.send_key, attribution.how) == ("camp_cyber", "window")
    assert sends("camp_cyber")["replied_at"] == "2026-11-23T10:00:00Z"


def test_replaying_the_stream_records_changes_nothing(aws, lambda_context, sends):
    handle(load_event("webhook/inbound_reply"), lambda_context)
    attribute_all(aws)
    before = sends("camp_bf26")
    attribute_all(aws)
    assert sends("camp_bf26") == before


def test_an_opt_out_button_reply_marks_the_send_opted_out(aws, lambda_context, sends):
    handle(load_event("webhook/inbound_opt_out_button"), lambda_context)
    attribute_all(aws)
    send = sends("camp_bf26")
    assert send["replied_at"] == send["opted_out_at"] == "2026-11-23T10:00:00Z"


def test_a_reply_quoting_a_send_made_before_is_found_through_its_old_pointer(aws, lambda_context, sends):
    """Sends made before kept their wamid on a WAMID# pointer; the send item may not hold it."""
    t = table(aws)
    t.update_item(Key={"pk": f"CUST#{CID}", "sk": "SEND#camp_bf26"}, UpdateExpression="REMOVE wamid")
    t.put_item(Item={"pk": f"WAMID#{SENT}", "sk": "SEND", "customer_id": CID, "send_key": "camp_bf26"})
    handle(load_event("webhook/inbound_reply"), lambda_context)
    [attribution] = attribute_all(aws)
    assert (attribution.ref.send_key, attribution.how) == ("camp_bf26", "context")
    assert sends("camp_bf26")["replied_at"] == "2026-11-23T10:00:00Z"

"""Groups on moto with the real handlers: the API, the webhook, the scheduler and the sender (which
makes the Groups API calls against a fake Graph)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import boto3
import httpx
import pytest
from boto3.dynamodb.conditions import Key

from engage.inbound.history import HistoryEvent
from tests.conftest import load_event
from tests.fakes.cloud_api import FakeGraph
from tests.helpers.events import http_event
from tests.helpers.sqs import drain
from tests.helpers.whatsapp import sample, signed_webhook_event

ALWAYS_OPEN = {
    "windows": {
        "weekday": [{"start": 0, "end": 24}],
        "middle_east": [{"start": 0, "end": 24}],
        "europe_americas": [{"start": 0, "end": 24}],
        "quiet_start": 24,
        "quiet_end": 0,
    },
}
LENA = "4915112345678"


@pytest.fixture
def graph(aws, monkeypatch, serialized_dynamodb) -> FakeGraph:
    from engage import wiring
    from engage.adapters.whatsapp import WhatsAppClient
    from engage.adapters.whatsapp_groups import WhatsAppGroupsClient
    from engage.core.settings import WhatsAppSettings

    fake = FakeGraph()
    http = httpx.Client(transport=httpx.MockTransport(fake))
    client = WhatsAppClient(WhatsAppSettings.from_env(), http=http)
    groups_client = WhatsAppGroupsClient(WhatsAppSettings.from_env(), http=http)
    monkeypatch.setattr(wiring.delivery, "whatsapp", lambda: client)
    monkeypatch.setattr(wiring.groups, "api", lambda: groups_client)
    wiring.delivery.config().put_sending(ALWAYS_OPEN)
    return fake


def api(method: str, path: str, context, body=None, query=None) -> tuple[int, Any]:
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, groups="marketer", query=query), context)
    return response["statusCode"], json.loads(response["body"] or "null")


def webhook(body: dict, context) -> dict:
    from functions.webhook import app

    response = app.lambda_handler(signed_webhook_event(body), context)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def run_sender(aws, context) -> None:
    from functions.sender import app

    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = aws.queues["SendQueue"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    drain(sqs, url, arn, app.lambda_handler, context)


def customers(n: int) -> list[str]:
    from engage import wiring
    from engage.core.time import iso, utcnow
    from engage.customers.profiles import resolve_customer

    ids = []
    for i in range(n):
        wa_id = LENA if i == 0 else f"4915123{i:06d}"
        customer, _ = resolve_customer(wiring.customers.repository(), wa_id=wa_id, user_id=None, now=utcnow())
        wiring.customers.repository().update(customer.id, consent={"marketing": True, "updated_at": iso(utcnow())})
        ids.append(customer.id)
    return ids


def items(aws, pk: str, prefix: str) -> list[dict]:
    table = boto3.resource("dynamodb").Table(aws.table_name)
    return table.query(KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(prefix))["Items"]


def with_group(name: str, wa_group: str, **fields: Any) -> dict:
    body = copy.deepcopy(sample(name))
    item = body["entry"][0]["changes"][0]["value"]["groups"][0]
    item.update(group_id=wa_group, **fields)
    return body


def test_invite_create_join_post_and_leave_through_the_handlers(aws, graph, lambda_context):
    ids = customers(9)
    status, circle = api("POST", "/v1/circles", lambda_context, {"name": "VIP Circle"})
    assert status == 201 and circle["id"] == "vip-circle"
    status, report = api(
        "POST", "/v1/circles/vip-circle/invite", lambda_context, {"customer_ids": ids, "check_audience": False}
    )
    assert status == 200 and len(report["invited"]) == 9 and len(report["groups_created"]) == 2
    first = report["invited"][0]["group_id"]

    run_sender(aws, lambda_context)  # the sender makes the two create calls
    creates = [c for c in graph.group_calls if c[0] == "create"]
    assert [c[2]["join_approval_mode"] for c in creates] == ["approval_required"] * 2
    _, group = api("GET", f"/v1/groups/{first}", lambda_context)
    assert group["status"] == "pending" and group["request_id"]

    created = with_group("group_created", "wa-g1", request_id=group["request_id"])
    assert webhook(created, lambda_context)["group_notices"] == 1
    webhook(created, lambda_context)  # Meta retries: nothing happens twice
    run_sender(aws, lambda_context)
    invitations = [s for s in graph.sent if s.get("type") == "template"]
    assert len(invitations) == 8  # group 1's eight; group 2 is still pending
    assert invitations[0]["template"]["name"] == "group_invite"

    webhook(with_group("group_join_request", "wa-g1"), lambda_context)  # Lena was invited: approved
    run_sender(aws, lambda_context)
    assert [c[2]["join_requests"] for c in graph.group_calls if c[0] == "approve"] == [["jr-4915112345678"]]
    joined = with_group("group_participant_joined", "wa-g1")
    webhook(joined, lambda_context)
    webhook(joined, lambda_context)
    lena = ids[0]
    assert [i["sk"] for i in items(aws, f"CUST#{lena}", "TAG#group:")] == ["TAG#group:vip-circle"]
    assert len([i for i in items(aws, f"CUST#{lena}", "EVT#") if i["kind"] == "group_joined"]) == 1
    day = items(aws, f"GROUP#{first}", "DAY#")
    assert [int(d.get("joins", 0)) for d in day] == [1]

    message = copy.deepcopy(sample("group_message_text"))
    message["entry"][0]["changes"][0]["value"]["messages"][0]["group_id"] = "wa-g1"
    report = webhook(message, lambda_context)
    assert report["group_messages"] == 1 and report["messages"] == 0  # activity, not a 1:1 message
    assert len(items(aws, f"GROUP#{first}", "ACT#")) == 1

    status, post = api(
        "POST", f"/v1/groups/{first}/posts", lambda_context,
        {"kind": "offer", "text": "20% off for members", "link": "https://shop.example/sale"},
    )  # fmt: skip
    assert status == 201
    from functions.scheduler import app as scheduler

    summary = scheduler.lambda_handler({"schedule": "group-posts", "now": post["send_at"]}, lambda_context)
    assert summary["queued"] == 1
    run_sender(aws, lambda_context)
    [sent] = graph.group_messages
    assert sent["to"] == "wa-g1" and sent["text"]["body"].startswith("20% off for members\n")
    assert "/r/" in sent["text"]["body"]

    webhook(with_group("group_participant_left", "wa-g1"), lambda_context)
    assert items(aws, f"CUST#{lena}", "TAG#group:") == []
    status, health = api("GET", f"/v1/groups/{first}/health", lambda_context, query={"day": post["send_at"][:10]})
    assert status == 200 and health["members"] == 0 and health["offers"] == 1


def test_bad_requests_get_a_clear_4xx_and_change_nothing(aws, graph, lambda_context):
    assert api("POST", "/v1/circles", lambda_context, {"name": "!!!"})[0] == 400
    assert api("POST", "/v1/circles", lambda_context, {"name": "VIP", "extra": 1})[0] in (400, 422)
    assert api("GET", "/v1/groups/g_missing", lambda_context)[0] == 404
    assert api("POST", "/v1/circles/nope/invite", lambda_context, {"customer_ids": ["c_" + "0" * 32]})[0] == 404
    api("POST", "/v1/circles", lambda_context, {"name": "VIP"})
    assert api("POST", "/v1/circles/vip/invite", lambda_context, {})[0] == 400
    assert api("POST", "/v1/circles", lambda_context, {"name": "VIP"})[0] == 409
    assert api("GET", "/v1/circles/vip/health", lambda_context, query={"day": "yesterday"})[0] == 400
    status, group = api("POST", "/v1/groups", lambda_context, {"circle_id": "vip"})
    assert status == 202 and group["status"] == "pending"
    assert api("POST", f"/v1/groups/{group['id']}/invite-link", lambda_context)[0] == 409  # not created yet
    bad_post = {"kind": "interactive", "text": "Which colour do you like?"}
    assert api("POST", f"/v1/groups/{group['id']}/posts", lambda_context, bad_post)[0] == 400


def test_the_sample_group_events_parse(aws, lambda_context):
    for name in ("group_settings_update", "group_suspended", "group_deleted"):
        report = webhook(sample(name), lambda_context)
        assert report["group_notices"] == 1 and report["rejected"] == 0
    assert load_event("webhook/group_created")["body"]


def test_a_saved_segment_is_invited_with_the_default_audience_rule(aws, graph, lambda_context):
    from engage import wiring
    from engage.core.time import iso, utcnow

    ids = customers(3)
    now = utcnow()
    for cid in ids:
        wiring.tagging.memberships().add(cid, "interest:running", since=iso(now), source="import")
    for n, cid in enumerate(ids[:2]):  # two VIPs: two orders of 100+ in six months; the third has none
        for k, total in enumerate((120.0, 180.0)):
            wiring.inbound.messages().put_event(
                HistoryEvent(
                    customer_id=cid, kind="order_placed", event_id=f"o{n}{k}",
                    occurred_at=iso(now - timedelta(days=30 * (k + 1))), received_at=iso(now),
                    data={"order_id": f"o{n}{k}", "total": total},
                )
            )  # fmt: skip
    status, segment = api("POST", "/v1/segments", lambda_context, {"name": "Runners", "rule": "interest:running"})
    assert status == 201, segment
    api("POST", "/v1/circles", lambda_context, {"name": "Run Club"})
    status, report = api("POST", "/v1/circles/run-club/invite", lambda_context, {"segment_id": segment["id"]})
    assert status == 200
    assert sorted(e["customer_id"] for e in report["invited"]) == sorted(ids[:2])
    assert report["skipped"] == {"not_in_audience": [ids[2]]}

"""The hourly metric-alerts job through the scheduler on moto: alerts, SNS, GET /v1/alerts, reports."""

from __future__ import annotations

import json

import boto3
import pytest

from engage.core.time import iso, parse_iso
from tests.helpers.events import http_event
from tests.integration.metrics.conftest import seed

NOW = parse_iso("2026-11-23T12:00:00Z")


@pytest.fixture
def topic_inbox(aws):
    """An SQS queue subscribed to the alerts topic: what operators would receive."""
    sns, sqs = boto3.client("sns", region_name="eu-west-1"), boto3.client("sqs", region_name="eu-west-1")
    arn = sns.list_topics()["Topics"][0]["TopicArn"]
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]

    return received


def run_job(lambda_context, now=NOW):
    from functions.scheduler import app

    return app.lambda_handler({"schedule": "metric-alerts", "now": iso(now)}, lambda_context)


def alerts(lambda_context, status=None):
    from functions.api import app

    query = {"status": status} if status else None
    response = app.lambda_handler(http_event("GET", "/v1/alerts", groups="marketer", query=query), lambda_context)
    assert response["statusCode"] == 200
    return json.loads(response["body"])["alerts"]


def test_a_low_read_rate_alerts_once_reports_and_closes_when_it_recovers(aws, lambda_context, topic_inbox):
    from engage import wiring

    # Given a campaign launched 25 hours ago whose messages are delivered but rarely read
    wiring.aws.table().put(
        {
            "pk": "CAMPAIGN#cmp_1",
            "sk": "CAMPAIGN",
            "id": "cmp_1",
            "name": "Spring",
            "status": "running",
            "launched_at": "2026-11-22T11:00:00Z",
            "segment_id": "seg_a",
        }
    )
    seed("cmp_1", "2026-11-22", sent=100, delivered=100, read=19)
    # When the hourly job runs
    summary = run_job(lambda_context)
    # Then one read-rate alert is opened and published, with the advice to halve volume
    assert summary["opened"] == ["read_rate#campaign:cmp_1"]
    published = topic_inbox()
    assert [a["kind"] for a in published] == ["read_rate"]
    assert "Halve the volume" in published[0]["advice"] and published[0]["value"] == 0.19
    assert [(a["kind"], a["status"]) for a in alerts(lambda_context)] == [("read_rate", "open")]
    # And the 24-hour report is written and shown with the campaign's metrics
    assert summary["reports"] == ["cmp_1"]
    from functions.api import app

    response = app.lambda_handler(http_event("GET", "/v1/campaigns/cmp_1/metrics", groups="marketer"), lambda_context)
    report = json.loads(response["body"])["report_24h"]
    assert report["text"].startswith("Campaign report: Spring (cmp_1)")
    # When it runs again an hour later, nothing new is stored or sent
    later = run_job(lambda_context, parse_iso("2026-11-23T13:00:00Z"))
    assert later["opened"] == [] and later["still_open"] == ["read_rate#campaign:cmp_1"] and later["reports"] == []
    assert topic_inbox() == [] and len(alerts(lambda_context)) == 1
    # When reads catch up (20%), the alert closes
    seed("cmp_1", "2026-11-22", read=1)
    closed = run_job(lambda_context, parse_iso("2026-11-23T14:00:00Z"))
    assert closed["closed"] == ["read_rate#campaign:cmp_1"]
    assert alerts(lambda_context, "open") == []
    assert alerts(lambda_context, "closed")[0]["close_reason"] == "cleared"


def test_opt_outs_and_poor_delivery_alert_but_tiny_campaigns_do_not(aws, lambda_context, topic_inbox):
    seed("cmp_big", "2026-11-23", sent=200, delivered=189, read=150, opted_out=14)  # 94.5% delivered, 7.4% opt-out
    seed("cmp_tiny", "2026-11-23", sent=40, delivered=19, read=1, opted_out=10)  # under every minimum sample
    seed("cmp_shop", "2026-11-23", sent=24, delivered=24, read=1, opted_out=3)  # a small shop: only opt-outs judged
    summary = run_job(lambda_context)
    assert summary["opened"] == [
        "delivery_rate#campaign:cmp_big",
        "opt_out_rate#campaign:cmp_big",
        "opt_out_rate#campaign:cmp_shop",
    ]
    assert sorted(a["kind"] for a in topic_inbox()) == ["delivery_rate", "opt_out_rate", "opt_out_rate"]
    assert summary["reports"] == []  # no campaign item with launched_at: no 24-hour report


def test_a_segment_whose_clicks_fall_two_weeks_running_alerts(aws, lambda_context, topic_inbox):
    for day, clicked in (("2026-11-05", 200), ("2026-11-12", 150), ("2026-11-19", 110)):
        seed("cmp_w", day, segment_id="seg_a", sent=1000, delivered=1000, read=700, clicked=clicked)
    summary = run_job(lambda_context)
    assert summary["opened"] == ["segment_click_drop#segment:seg_a"]
    assert topic_inbox()[0]["title"] == "Clicks falling in segment seg_a"


def test_alerts_listing_validates_its_query(aws, lambda_context):
    from functions.api import app

    event = http_event("GET", "/v1/alerts", groups="marketer", query={"status": "maybe"})
    assert app.lambda_handler(event, lambda_context)["statusCode"] == 400

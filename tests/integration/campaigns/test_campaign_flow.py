"""Templates, campaigns, dispatch and sending through the real handlers on moto."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.helpers.events import http_event
from tests.helpers.sqs import receive_event

TEMPLATE = {
    "name": "winter_sale",
    "language": "en",
    "category": "marketing",
    "body": "Hi {{1}}, winter is here.\nYour code {{2}} takes 20% off.\nTap Shop now to get yours.",
    "buttons": [{"type": "url", "text": "Shop now", "url": "https://shop.test/{{1}}"},
                {"type": "quick_reply", "text": "Stop promotions", "opt_out": True}],
}  # fmt: skip


def call(method: str, path: str, context, body=None) -> tuple[int, dict]:
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, groups="marketer"), context)
    return response["statusCode"], json.loads(response["body"])


def audience(n: int, *, without_consent: int = 0) -> list[str]:
    from engage import wiring
    from engage.core.time import iso, utcnow
    from engage.customers.profiles import resolve_customer

    ids = []
    for i in range(n):
        customer, _ = resolve_customer(
            wiring.customers.repository(), wa_id=f"4915123{i:06d}", user_id=None, name=f"Kim{i}", now=utcnow()
        )
        consent = i >= without_consent
        wiring.customers.repository().update(customer.id, consent={"marketing": consent, "updated_at": iso(utcnow())})
        wiring.tagging.memberships().add(customer.id, "vip", since=iso(utcnow()), source="import")
        ids.append(customer.id)
    return ids


def campaign_body(**kw) -> dict:
    body = {
        "name": "Winter",
        "rule": {"tag": "vip"},
        "variants": [{"name": "A", "template": "winter_sale", "body": ["{{name}}", "{{coupon}}"],
                      "buttons": [{"index": 0, "value": "{{link}}"}]}],
        "coupon_code": "WINTER20",
        "link": "https://shop.test/winter",
        "rate_per_minute": 6000,
    }  # fmt: skip
    body.update(kw)
    return body


def launched(stack, **kw) -> str:
    status, template = call("POST", "/v1/templates", stack.context, TEMPLATE)
    assert status in (200, 201)
    status, campaign = call("POST", "/v1/campaigns", stack.context, campaign_body(**kw))
    assert status == 201, campaign
    status, running = call("POST", f"/v1/campaigns/{campaign['id']}/launch", stack.context)
    assert (status, running["status"]) == (200, "running")
    return campaign["id"]


def test_a_campaign_goes_from_template_to_sent_messages(stack):
    audience(12, without_consent=2)
    status, template = call("POST", "/v1/templates", stack.context, TEMPLATE)
    assert status == 201 and isinstance(template["warnings"], list)
    status, campaign = call("POST", "/v1/campaigns", stack.context, campaign_body())
    assert status == 201 and campaign["status"] == "draft"
    call("POST", f"/v1/campaigns/{campaign['id']}/launch", stack.context)
    stack.run_dispatcher()
    stack.run_sender()
    assert len(stack.graph.sent) == 10
    first = stack.graph.sent[0]
    assert first["type"] == "template" and first["biz_opaque_callback_data"].endswith(f"|{campaign['id']}")
    assert first["template"]["components"][0]["parameters"][1]["text"] == "WINTER20"
    status, read = call("GET", f"/v1/campaigns/{campaign['id']}", stack.context)
    assert read["progress"]["sent"] == 10 and read["progress"]["refused:no_consent"] == 2
    assert read["dispatch"]["done"] is True and read["audience_count"] == 12


def dispatched_batch(stack, recipients: int) -> dict:
    """A launched campaign to `recipients` customers, dispatched: its first SQS batch of send jobs."""
    audience(recipients)
    launched(stack)
    stack.run_dispatcher()
    event = receive_event(stack.sqs, *stack.queue("SendQueue"))
    assert len(event["Records"]) == recipients
    return event


def test_the_same_sqs_batch_twice_sends_nothing_twice(stack):
    from functions.sender import app

    event = dispatched_batch(stack, 8)
    first = app.lambda_handler(event, stack.context)
    second = app.lambda_handler(event, stack.context)
    assert first["batchItemFailures"] == [] and second["batchItemFailures"] == []
    assert len(stack.graph.sent) == 8


def test_a_batch_keeps_its_jobs_in_flight_together_and_sends_each_once(stack):
    from functions.sender import app

    event = dispatched_batch(stack, 10)
    stack.graph.latency = 0.2  # a slow WhatsApp: one job after another would keep one call in flight
    result = app.lambda_handler(event, stack.context)
    assert result["batchItemFailures"] == []
    assert len(stack.graph.sent) == 10 and len({m["to"] for m in stack.graph.sent}) == 10
    assert stack.graph.peak > 1


def test_pause_parks_jobs_and_resume_sends_each_once(stack):
    audience(6)
    campaign_id = launched(stack)
    stack.run_dispatcher()
    status, paused = call("POST", f"/v1/campaigns/{campaign_id}/pause", stack.context)
    assert paused["status"] == "paused"
    from functions.sender import app

    app.sender()._campaigns.clear()  # a new container, or the cache's few seconds later
    stack.run_sender()
    assert stack.graph.sent == []
    status, resumed = call("POST", f"/v1/campaigns/{campaign_id}/resume", stack.context)
    assert resumed["status"] == "running" and resumed["requeued"] == 6
    app.sender()._campaigns.clear()
    stack.run_sender()
    stack.run_sender()
    assert len(stack.graph.sent) == 6 and len({m["to"] for m in stack.graph.sent}) == 6


def test_errors_end_in_the_right_state_and_follow_up_offers_those_not_reached(stack):
    from engage import wiring
    from engage.core.time import iso, utcnow
    from functions.scheduler import app as scheduler

    ids = audience(4)
    stack.graph.fail = {"4915123000000": 131000, "4915123000001": 131050}
    campaign_id = launched(stack)
    stack.run_dispatcher()
    stack.run_sender()
    states = {i.customer_id: (i.state, i.reason) for i in wiring.delivery.sends().of_campaign(campaign_id)}
    assert states[ids[0]] == ("retrying", "whatsapp:131000")
    assert states[ids[1]] == ("refused", "whatsapp:131050")
    assert states[ids[2]][0] == states[ids[3]][0] == "sent"
    assert wiring.customers.repository().get(ids[1]).consent.marketing is False
    call("POST", f"/v1/campaigns/{campaign_id}/cancel", stack.context)
    later = iso(utcnow() + timedelta(days=4))
    scheduler.lambda_handler({"schedule": "campaign-tick", "now": later}, stack.context)
    status, follow = call("POST", f"/v1/campaigns/{campaign_id}/follow-up", stack.context)
    assert status == 201 and follow["status"] == "draft" and follow["follow_up_of"] == campaign_id
    assert follow["reasons"] == {"failed_retryably:whatsapp:131000": 1}


def test_a_policy_block_halts_the_campaign_alerts_and_parks_the_job(stack):
    from engage import wiring

    ids = audience(1)
    stack.graph.fail = {"4915123000000": 368}
    campaign_id = launched(stack)
    stack.run_dispatcher()
    stack.run_sender()
    item = wiring.delivery.sends().get(ids[0], campaign_id)
    assert (item.state, item.reason, item.parked) == ("deferred", "whatsapp:368", True)
    campaign = wiring.campaigns.repository().get(campaign_id)
    assert campaign.status == "paused" and campaign.pause_reason == "whatsapp:368"


def test_a_poison_job_fails_until_the_dlq_takes_it(stack):
    url, _ = stack.queue("SendQueue")
    stack.sqs.send_message(QueueUrl=url, MessageBody='{"not": "a job"}')
    events = stack.run_sender()
    assert events and all(len(e["Records"]) == 1 for e in events)
    dlq = stack.aws.queues["SendDLQ"]
    moved = stack.sqs.receive_message(QueueUrl=dlq)
    assert moved.get("Messages"), "the poison job ends in the DLQ"


def test_release_deferred_requeues_due_jobs_once(stack):
    from engage import wiring
    from engage.core.time import iso, utcnow
    from engage.delivery.jobs import SendJob, TemplateMessage
    from engage.delivery.sends import SendItem
    from functions.scheduler import app as scheduler

    ids = audience(1)
    job = SendJob(
        customer_id=ids[0], send_key="tx:test:1", category="utility", message=TemplateMessage(template="winter_sale")
    )
    release = iso(utcnow() - timedelta(minutes=1))
    wiring.delivery.sends().save(
        SendItem(
            customer_id=ids[0],
            send_key="tx:test:1",
            state="deferred",
            release_at=release,
            job=job.model_dump(mode="json"),
        )
    )
    now = iso(utcnow())
    first = scheduler.lambda_handler({"schedule": "release-deferred", "now": now}, stack.context)
    second = scheduler.lambda_handler({"schedule": "release-deferred", "now": now}, stack.context)
    assert (first["queued"], second["queued"]) == (1, 0)
    stack.run_sender()
    assert len(stack.graph.sent) == 1


def test_the_dynamodb_bucket_books_consecutive_slots_idle_or_busy(aws):
    from engage import wiring
    from engage.adapters.dynamo.delivery_buckets import DynamoBuckets

    buckets = DynamoBuckets(wiring.aws.table())
    other = DynamoBuckets(wiring.aws.table())  # another container with its own view
    first = buckets.claim("n#0", now_us=0, count=10, interval_us=10_000, lookahead_us=1_000_000)
    second = other.claim("n#0", now_us=0, count=10, interval_us=10_000, lookahead_us=1_000_000)
    third = buckets.claim("n#0", now_us=50_000, count=10, interval_us=10_000, lookahead_us=1_000_000)
    assert (first.first, second.first, third.first) == (0, 100_000, 200_000)
    full = other.claim("n#0", now_us=0, count=100, interval_us=10_000, lookahead_us=250_000)
    assert full.first is None and full.retry_at == 300_000 - 250_000
    assert not buckets.give_back("n#0", count=10, interval_us=10_000, end_us=200_000)  # others booked after
    assert buckets.give_back("n#0", count=10, interval_us=10_000, end_us=300_000)
    assert buckets.claim("n#0", now_us=60_000, count=1, interval_us=10_000, lookahead_us=1_000_000).first == 200_000
    assert (
        buckets.claim("n#0", now_us=5_000_000, count=1, interval_us=10_000, lookahead_us=1_000_000).first == 5_000_000
    )


def test_templates_are_listed_read_and_deleted_and_campaigns_check_them(stack):
    status, saved = call("POST", "/v1/templates", stack.context, {**TEMPLATE, "body": "Buy now"})
    assert status == 201 and saved["warnings"]
    assert call("POST", "/v1/templates", stack.context, TEMPLATE)[0] == 200  # an update
    status, listed = call("GET", "/v1/templates", stack.context)
    assert [t["name"] for t in listed["templates"]] == ["winter_sale"]
    assert call("GET", "/v1/templates/winter_sale", stack.context)[1]["body"] == TEMPLATE["body"]
    status, wrong = call("POST", "/v1/campaigns", stack.context, campaign_body(variants=[{"template": "winter_sale"}]))
    assert (status, wrong["error"]["code"]) == (400, "template_parameters")
    status, missing = call("POST", "/v1/campaigns", stack.context, campaign_body(variants=[{"template": "nope"}]))
    assert (status, missing["error"]["code"]) == (400, "template_not_found")
    status, invalid = call("POST", "/v1/campaigns", stack.context, {"name": "x", "variants": []})
    assert (status, invalid["error"]["code"]) == (422, "validation_error")
    assert call("DELETE", "/v1/templates/winter_sale", stack.context)[0] == 200
    assert call("GET", "/v1/templates/winter_sale", stack.context)[0] == 404


def test_state_machine_refuses_moves_it_does_not_allow(stack):
    audience(1)
    status, campaign = call("POST", "/v1/templates", stack.context, TEMPLATE)
    status, campaign = call("POST", "/v1/campaigns", stack.context, campaign_body())
    status, error = call("POST", f"/v1/campaigns/{campaign['id']}/resume", stack.context)
    assert (status, error["error"]["code"]) == (409, "campaign_state")
    assert call("POST", f"/v1/campaigns/{campaign['id']}/cancel", stack.context)[1]["status"] == "cancelled"
    assert call("POST", f"/v1/campaigns/{campaign['id']}/launch", stack.context)[0] == 409
    assert call("GET", "/v1/campaigns/cmp_nope", stack.context)[0] == 404
    assert len(call("GET", "/v1/campaigns", stack.context)[1]["campaigns"]) == 1


def test_the_openapi_document_lists_the_sending_routes(stack):
    from functions.api import app

    response = app.lambda_handler(http_event("GET", "/v1/openapi.json"), stack.context)
    paths = json.loads(response["body"])["paths"]
    assert "/v1/campaigns" in paths and "/v1/templates" in paths and "/v1/campaigns/{campaign_id}/follow-up" in paths


def test_the_sample_events_run_through_their_handlers(stack):
    from functions.dispatcher import app as dispatcher
    from functions.scheduler import app as scheduler
    from functions.sender import app as sender
    from tests.conftest import load_event

    # an unknown customer and an unknown campaign are no-ops, not failures
    assert sender.lambda_handler(load_event("sender/send_jobs"), stack.context) == {"batchItemFailures": []}
    assert dispatcher.lambda_handler(load_event("dispatcher/dispatch_page"), stack.context) == {"batchItemFailures": []}
    assert scheduler.lambda_handler(load_event("scheduler/release_deferred"), stack.context)["queued"] == 0
    assert scheduler.lambda_handler(load_event("scheduler/campaign_tick"), stack.context) == {}


def emf_values(out: str) -> dict[str, list[tuple[dict, float]]]:
    """metric name -> [(dimensions, value)] from the EMF lines a handler printed."""
    found: dict[str, list[tuple[dict, float]]] = {}
    for line in out.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            dimensions = {d: blob[d] for group in directive["Dimensions"] for d in group}
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    found.setdefault(metric["Name"], []).append((dimensions, value))
    return found


def test_the_sender_reports_sends_waits_and_failures_by_code_as_metrics(stack, capsys):
    from functions.sender import app

    event = dispatched_batch(stack, 4)
    stack.graph.fail["4915123000002"] = 131026  # undeliverable: refused, never retried
    capsys.readouterr()
    app.lambda_handler(event, stack.context)
    metrics = emf_values(capsys.readouterr().out)
    assert sum(v for _, v in metrics["Sends"]) == 3
    assert len(metrics["ThrottleWaitMs"]) == 3 and all(v >= 0 for _, v in metrics["ThrottleWaitMs"])
    by_code = [(d.get("error_code"), v) for d, v in metrics["SendFailures"] if "error_code" in d]
    assert by_code == [("131026", 1.0)]
    assert sum(v for d, v in metrics["SendFailures"] if "error_code" not in d) == 1


def test_launching_marks_the_tags_its_audience_names_as_used_for_tag_health(stack):
    from engage import wiring
    from engage.core.time import iso, utcnow

    status, _ = call("GET", "/v1/tags", stack.context)  # the starter catalog
    assert status == 200
    ids = audience(3)
    for customer_id in ids:
        wiring.tagging.memberships().add(customer_id, "interest:price-sensitive", since=iso(utcnow()), source="import")
    before = utcnow()
    rule = {"all": [{"tag": "interest:price-sensitive"}, {"tag_prefix": "lifecycle:"}, {"tag": "vip"}]}
    launched(stack, rule=rule)
    stack.run_dispatcher()
    catalog = wiring.tagging.catalog()
    price = catalog.get("interest:price-sensitive")
    assert price is not None and price.last_used_at is not None and price.last_used_at >= iso(before)
    lifecycle = [d for name, d in catalog.all(fresh=True).items() if name.startswith("lifecycle:")]
    assert lifecycle and all(d.last_used_at for d in lifecycle)
    untouched = [d for name, d in catalog.all().items() if not name.startswith(("lifecycle:", "interest:price"))]
    assert untouched and not any(d.last_used_at for d in untouched)

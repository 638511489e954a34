"""Journeys on moto with the real handlers: the tagger's processor starts and moves runs, the
scheduler's minute sweep wakes them, sends land on the send queue once, counters add up."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engage.core.time import parse_iso, set_clock
from tests.helpers.streams import history_item, stream_event

CID = "c_0123456789abcdef0123456789abcdef"
T0 = "2026-11-23T10:00:00Z"


@pytest.fixture
def world(aws: Any) -> Any:
    from engage import wiring
    from engage.customers.profiles import Consent, Customer
    from functions.scheduler import app as scheduler
    from functions.tagger import app as tagger

    wiring.customers.repository().create(
        Customer(
            id=CID,
            wa_id="4915123456789",
            country="DE",
            timezone="Europe/Berlin",
            first_seen_at="2026-11-01T00:00:00Z",
            consent=Consent(marketing=True, updated_at="2026-11-01T00:00:00Z"),
        )
    )
    yield aws, scheduler, tagger
    set_clock(None)


def at(now: str) -> None:
    set_clock(parse_iso(now))


def stream(tagger: Any, items: list[dict[str, Any]], context: Any) -> None:
    from engage import wiring

    for item in items:
        wiring.aws.table().put(item)
    assert tagger.lambda_handler(stream_event(items), context) == {"batchItemFailures": []}


def queued_sends() -> list[dict[str, Any]]:
    import boto3

    from engage import wiring

    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = wiring.aws.queue_settings().send_queue_url
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for m in got:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_the_abandoned_cart_journey_end_to_end(world: Any, lambda_context: Any) -> None:
    from engage import wiring
    from engage.journeys import service

    _, scheduler, tagger = world
    # Given the defaults installed by the first sweep, disabled, and the cart journey enabled
    summary = scheduler.lambda_handler({"schedule": "journey-sweep", "now": T0}, lambda_context)
    assert len(summary["installed"]) == 7
    ports = wiring.journeys.ports()
    assert not any(j.enabled for j in ports.journeys.all())
    service.set_enabled(ports, "abandoned-cart", True, parse_iso(T0))
    # When a cart is abandoned (and the stream record is replayed)
    at(T0)
    cart = history_item(CID, "cart_abandoned", "cart-1", T0, cart_value=80)
    stream(tagger, [cart], lambda_context)
    stream(tagger, [cart], lambda_context)
    run = ports.runs.get(CID, "abandoned-cart")
    assert run is not None and (run.state, run.step, run.run_no) == ("waiting", "wait", 1)
    # Then nothing is sent before the hour is up; after it, one reminder goes on the send queue
    scheduler.lambda_handler({"schedule": "journey-sweep", "now": "2026-11-23T10:59:00Z"}, lambda_context)
    assert queued_sends() == []
    scheduler.lambda_handler({"schedule": "journey-sweep", "now": "2026-11-23T11:00:00Z"}, lambda_context)
    scheduler.lambda_handler({"schedule": "journey-sweep", "now": "2026-11-23T11:01:00Z"}, lambda_context)
    [job] = queued_sends()
    assert (job["send_key"], job["campaign_id"], job["variant"]) == (
        "journey:abandoned-cart:1:remind",
        "journey:abandoned-cart",
        "remind",
    )
    # And an order within the goal window converts the run, with its revenue, once
    at("2026-11-23T15:00:00Z")
    order = history_item(CID, "order_placed", "order-1", "2026-11-23T15:00:00Z", total=80.0)
    stream(tagger, [order], lambda_context)
    stream(tagger, [order], lambda_context)
    run = ports.runs.get(CID, "abandoned-cart")
    assert run is not None and (run.state, run.outcome) == ("done", "converted")
    stats = service.stats(ports, "abandoned-cart")
    assert stats["entered"] == 1 and stats["converted"] == 1 and stats["sent"] == 1
    assert stats["revenue"] == 80.0 and stats["active"] == {}
    # And the run is in the customer's history, entered and ended, which the tagger ignores
    kinds = [i["kind"] for i in wiring.aws.table().query(f"CUST#{CID}", sk_prefix="EVT#")]
    assert kinds.count("journey_entered") == 1 and kinds.count("journey_ended") == 1


def test_a_tag_rule_starts_a_tag_triggered_journey(world: Any, lambda_context: Any) -> None:
    from engage import wiring
    from engage.journeys import service

    _, scheduler, tagger = world
    scheduler.lambda_handler({"schedule": "journey-sweep", "now": T0}, lambda_context)
    ports = wiring.journeys.ports()
    raw = {
        "name": "price askers",
        "trigger": {"type": "tag_added", "tag": "intent:price-asked"},
        "start": "t",
        "steps": {"t": {"type": "tag", "add": ["journey:price"]}},
    }
    service.create(ports, "price", service.parse_definition(raw), parse_iso(T0))
    service.set_enabled(ports, "price", True, parse_iso(T0))
    at(T0)
    message = history_item(CID, "message", "wamid.1", T0, type="text", text="Wie viel kostet die Creme?")
    stream(tagger, [message], lambda_context)
    tags = {m["name"] for m in wiring.tagging.memberships().of_customer(CID)}
    assert {"intent:price-asked", "journey:price"} <= tags
    assert ports.runs.get(CID, "price").outcome == "exited"  # type: ignore[union-attr]


def test_the_daily_sweep_enters_customers_whose_last_order_turned_90_days(world: Any, lambda_context: Any) -> None:
    from engage import wiring
    from engage.customers.profiles import Customer
    from engage.journeys import service
    from tests.helpers.queues import run_schedule

    _, scheduler, _ = world
    scheduler.lambda_handler({"schedule": "journey-sweep", "now": T0}, lambda_context)
    ports = wiring.journeys.ports()
    service.set_enabled(ports, "dormant-reactivation", True, parse_iso(T0))
    repo = wiring.customers.repository()
    for cid, last in (
        ("c_0000000000000000000000000000d0e1", "2026-08-24T09:00:00Z"),
        ("c_0000000000000000000000000000aa02", "2026-11-01T09:00:00Z"),
        ("c_0000000000000000000000000000bb03", "2026-08-01T09:00:00Z"),
    ):
        repo.create(Customer(id=cid, wa_id=f"4915100{cid[-4:]}", last_order_at=last))
    summary = run_schedule("journey-triggers", "2026-11-23T04:00:00Z", lambda_context)
    assert summary["age_pages"] == 16 and summary["pages_run"] >= 16
    entered = {
        cid
        for cid in (
            "c_0000000000000000000000000000d0e1",
            "c_0000000000000000000000000000aa02",
            "c_0000000000000000000000000000bb03",
            CID,
        )
        if ports.runs.get(cid, "dormant-reactivation")
    }
    assert entered == {"c_0000000000000000000000000000d0e1"}
    run_schedule("journey-triggers", "2026-11-23T04:00:00Z", lambda_context)  # a retried run enters nobody again
    assert service.stats(ports, "dormant-reactivation")["entered"] == 1

"""A journey's sends go through the real sender: every sending rule applies, once per send key."""

from __future__ import annotations

from datetime import timedelta

from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob
from engage.journeys import service
from tests.fakes.journeys import JourneyWorld
from tests.fakes.sending import T0, world

RAW = {
    "name": "cart",
    "trigger": {"type": "event", "event": "cart_abandoned"},
    "start": "s",
    "steps": {"s": {"type": "send", "template": "cart_reminder"}},
}


def person(cid: str, *, consent: bool = True) -> Customer:
    return Customer(
        id=cid,
        wa_id="4915112345678",
        country="DE",
        timezone="Europe/Berlin",
        timezone_source="api",
        consent=Consent(marketing=consent, updated_at=iso(T0 - timedelta(days=1))),
    )


def queued(jw: JourneyWorld, cid: str) -> list[SendJob]:
    jw.customers.add(person(cid, consent=cid != "c_no"))
    item = {"customer_id": cid, "kind": "cart_abandoned", "event_id": "cart-1", "occurred_at": iso(T0), "data": {}}
    service.on_history_item(jw.ports, item, T0)
    service.on_history_item(jw.ports, item, T0)  # a replayed stream record
    return [SendJob.model_validate(body) for body in jw.sent_jobs() if body["customer_id"] == cid]


def test_a_journey_send_is_sent_once_and_counted_under_the_journey_and_step() -> None:
    jw, sw = JourneyWorld(), world()
    service.create(jw.ports, "cart", service.parse_definition(RAW), T0)
    service.set_enabled(jw.ports, "cart", True, T0)
    [job] = queued(jw, "c_yes")
    sw.customers.add(person("c_yes"))
    outcomes = [sw.sender.handle(job).action, sw.sender.handle(job).action]
    assert outcomes == ["sent", "noop"]
    [item] = sw.sends.history("c_yes")[0]
    assert (item["campaign_id"], item["variant"], item["state"]) == ("journey:cart", "s", "sent")


def test_a_journey_send_without_consent_is_refused_by_the_sender() -> None:
    jw, sw = JourneyWorld(), world()
    service.create(jw.ports, "cart", service.parse_definition(RAW), T0)
    service.set_enabled(jw.ports, "cart", True, T0)
    [job] = queued(jw, "c_no")
    sw.customers.add(person("c_no", consent=False))
    outcome = sw.sender.handle(job)
    assert outcome.action == "refused" and sw.whatsapp.sent == []


def test_a_journey_send_in_quiet_hours_is_deferred_not_dropped() -> None:
    jw = JourneyWorld()
    sw = world(start=T0.replace(hour=22, minute=30))
    service.create(jw.ports, "cart", service.parse_definition(RAW), T0)
    service.set_enabled(jw.ports, "cart", True, T0)
    [job] = queued(jw, "c_yes")
    sw.customers.add(person("c_yes"))
    outcome = sw.sender.handle(job)
    assert outcome.action == "deferred"
    [item] = sw.sends.history("c_yes")[0]
    assert item["state"] == "deferred" and item["release_at"] > iso(sw.clock.now)


def test_a_journeys_marketing_send_counts_toward_the_promotional_caps_of_what_follows() -> None:
    jw, sw = JourneyWorld(), world()
    service.create(jw.ports, "cart", service.parse_definition(RAW), T0)
    service.set_enabled(jw.ports, "cart", True, T0)
    [job] = queued(jw, "c_yes")
    sw.customers.add(person("c_yes"))
    assert sw.sender.handle(job).action == "sent"
    [item] = sw.sends.history("c_yes")[0]
    assert item["content"] == "promotional"
    second = job.model_copy(update={"send_key": "journey:cart:2:s"})
    sw.clock.advance(days=1)
    outcome = sw.sender.handle(second)
    assert outcome.action in ("deferred", "refused") and "cap:promotional" in outcome.reason

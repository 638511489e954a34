"""The journey engine on in-memory ports: every step type, timing, exactly-once moves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engage.core.errors import Invalid
from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.journeys import engine, service
from engage.journeys.defaults import DEFAULTS
from engage.journeys.model import JourneyIn
from engage.tagging.catalog import TagChange
from tests.fakes.journeys import JourneyWorld
from tests.fakes.sending import T0

CID = "c_1"


def customer(w: JourneyWorld, cid: str = CID, **kw: Any) -> Customer:
    fields: dict[str, Any] = {
        "id": cid,
        "wa_id": "4915112345678",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "timezone_source": "api",
        "consent": Consent(marketing=True, updated_at=iso(T0 - timedelta(days=1))),
    }
    return w.customers.add(Customer(**(fields | kw)))


def journey(w: JourneyWorld, raw: dict[str, Any], jid: str = "j1", *, enabled: bool = True) -> None:
    service.create(w.ports, jid, service.parse_definition(raw), T0)
    if enabled:
        service.set_enabled(w.ports, jid, True, T0)


def item(kind: str, event_id: str, at: Any = T0, cid: str = CID, **data: Any) -> dict[str, Any]:
    return {"customer_id": cid, "kind": kind, "event_id": event_id, "occurred_at": iso(at), "data": data}


def cart_journey(**settings: Any) -> dict[str, Any]:
    return {
        "name": "cart",
        "trigger": {"type": "event", "event": "cart_abandoned"},
        "start": "wait",
        "steps": {
            "wait": {
                "type": "wait_event",
                "event": "order_placed",
                "timeout_minutes": 240,
                "on_event": "won",
                "on_timeout": "remind",
            },
            "remind": {"type": "send", "template": "cart_reminder", "next": "bye"},
            "won": {"type": "exit", "reason": "ordered"},
            "bye": {"type": "exit", "reason": "reminded"},
        },
        "settings": settings,
    }


@pytest.fixture
def w() -> JourneyWorld:
    world = JourneyWorld()
    customer(world)
    return world


# ---------------------------------------------------------------- definitions
def test_every_default_journey_validates_has_a_summary_and_installs_disabled(w: JourneyWorld) -> None:
    created = service.install_defaults(w.ports, T0)
    assert created == [
        "welcome",
        "onboarding",
        "high-intent",
        "abandoned-cart",
        "dormant-reactivation",
        "vip-offer",
        "survey",
    ]
    assert all(not j.enabled for j in w.journeys.all())
    assert service.install_defaults(w.ports, T0) == []  # stable ids: installing again changes nothing
    service.delete(w.ports, "survey")
    assert service.install_defaults(w.ports, T0) == [] and w.journeys.get("survey") is None  # deleted stays deleted
    summary = w.journeys.get("abandoned-cart").summary  # type: ignore[union-attr]
    assert "when a customer's cart abandoned event arrives" in summary
    assert "wait up to 1 hour for order placed" in summary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "nowhere"}, "start step 'nowhere' is not defined"),
        (
            {
                "steps": {
                    "a": {"type": "wait", "minutes": 5, "next": "b"},
                    "b": {"type": "wait", "minutes": 5, "next": "a"},
                },
                "start": "a",
            },
            "loop",
        ),
        ({"steps": {"a": {"type": "exit"}, "b": {"type": "exit"}}, "start": "a"}, "not reachable"),
        ({"steps": {"a": {"type": "branch", "rule": "orders >=", "yes": "a", "no": "a"}}, "start": "a"}, "rule"),
        ({"steps": {"a": {"type": "send", "next": None}}, "start": "a"}, "either a template or a text"),
    ],
)
def test_a_bad_journey_is_refused_naming_the_problem(change: dict[str, Any], message: str) -> None:
    raw = cart_journey() | change
    with pytest.raises(Invalid) as error:
        service.parse_definition(raw)
    assert message in error.value.message


def test_a_survey_asks_at_most_five_questions() -> None:
    question = {"type": "send", "text": "?", "buttons": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}
    steps = {f"q{i}": question | {"next": f"q{i + 1}"} for i in range(6)} | {"q6": {"type": "exit"}}
    with pytest.raises(Invalid, match="at most 5 questions"):
        service.parse_definition({"name": "s", "trigger": {"type": "first_inbound"}, "start": "q0", "steps": steps})


# ---------------------------------------------------------------- wait for an event, both ways
def test_no_order_within_the_timeout_sends_the_reminder_through_the_sender(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "cart-1"), T0)
    assert w.sent_jobs() == []
    service.sweep(w.ports, T0 + timedelta(hours=3, minutes=59))
    assert w.sent_jobs() == []
    service.sweep(w.ports, T0 + timedelta(hours=4))
    [job] = w.sent_jobs()
    assert job["send_key"] == "journey:j1:1:remind"
    assert job["campaign_id"] == "journey:j1" and job["variant"] == "remind"
    assert job["message"] == {"kind": "template", "template": "cart_reminder", "language": "en", "variables": {}}
    run = w.runs.get(CID, "j1")
    assert run is not None and (run.state, run.outcome, run.reason) == ("done", "exited", "reminded")


def test_an_order_within_the_timeout_takes_the_event_path_and_nothing_is_sent(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "cart-1"), T0)
    service.on_history_item(
        w.ports, item("order_placed", "o-1", T0 + timedelta(hours=2), total=40.0), T0 + timedelta(hours=2)
    )
    service.sweep(w.ports, T0 + timedelta(hours=5))
    assert w.sent_jobs() == []
    run = w.runs.get(CID, "j1")
    assert run is not None and run.reason == "ordered"
    stats = service.stats(w.ports, "j1")
    assert stats["exited"] == {"ordered": 1} and stats["revenue"] == 40.0 and stats["active"] == {}


def test_an_event_from_before_the_wait_began_does_not_count(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "cart-1"), T0)
    late_arrival = item("order_placed", "o-0", T0 - timedelta(minutes=5))
    service.on_history_item(w.ports, late_arrival, T0 + timedelta(minutes=1))
    assert w.runs.get(CID, "j1").state == "waiting"  # type: ignore[union-attr]


# ---------------------------------------------------------------- waits and send windows
def test_wait_until_send_window_waits_over_night_to_the_customers_local_window(w: JourneyWorld) -> None:
    raw = {
        "name": "window",
        "trigger": {"type": "event", "event": "product_viewed"},
        "start": "w",
        "steps": {"w": {"type": "wait", "until": "send_window", "next": "s"}, "s": {"type": "send", "template": "t"}},
    }
    journey(w, raw)
    night = T0.replace(hour=22, minute=30)  # 23:30 in Berlin: quiet hours
    service.on_history_item(w.ports, item("product_viewed", "v-1", night), night)
    run = w.runs.get(CID, "j1")
    assert run is not None and run.state == "waiting"
    due = run.due_at or ""
    assert due > iso(night) and "T22" not in due and "T23" not in due
    service.sweep(w.ports, night + timedelta(hours=1))
    assert w.sent_jobs() == []
    service.sweep(w.ports, night + timedelta(hours=14))
    assert len(w.sent_jobs()) == 1


def test_a_duration_wait_resumes_at_its_due_time_and_not_before(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["steps"] = {"a": {"type": "wait", "minutes": 1440, "next": "b"}, "b": {"type": "send", "template": "t"}}
    raw["start"] = "a"
    journey(w, raw)
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    service.sweep(w.ports, T0 + timedelta(hours=23, minutes=59))
    assert w.sent_jobs() == []
    service.sweep(w.ports, T0 + timedelta(days=1))
    assert len(w.sent_jobs()) == 1
    assert w.runs.get(CID, "j1").reason == "completed"  # type: ignore[union-attr]


# ---------------------------------------------------------------- the other steps
def test_branch_uses_the_segment_rule_in_both_forms(w: JourneyWorld) -> None:
    for jid, rule in (
        ("text", "tag:vip AND orders >= 1"),
        ("json", {"all": [{"tag": "vip"}, {"orders": {"at_least": 1}}]}),
    ):
        raw = cart_journey()
        raw["start"] = "b"
        raw["steps"] = {
            "b": {"type": "branch", "rule": rule, "yes": "y", "no": "n"},
            "y": {"type": "exit", "reason": "yes"},
            "n": {"type": "exit", "reason": "no"},
        }
        journey(w, raw, jid)
    w.profiles.tag_sets[CID].add("vip")
    w.customers.update(CID, orders=2)
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    assert w.runs.get(CID, "text").reason == "yes"  # type: ignore[union-attr]
    assert w.runs.get(CID, "json").reason == "yes"  # type: ignore[union-attr]
    customer(w, "c_2")
    service.on_history_item(w.ports, item("cart_abandoned", "c", cid="c_2"), T0)
    assert w.runs.get("c_2", "text").reason == "no"  # type: ignore[union-attr]


def test_tag_coupon_and_send_steps_put_the_code_in_the_message(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "t"
    raw["steps"] = {
        "t": {"type": "tag", "add": ["journey:cart"], "remove": ["cold"], "next": "c"},
        "c": {"type": "coupon", "pool": "cart", "code": "STATIC", "next": "s"},
        "s": {"type": "send", "template": "code", "variables": {"code": "{{coupon}}"}},
    }
    journey(w, raw)
    w.profiles.tag_sets[CID].add("cold")
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    assert w.profiles.tags(CID) == {"journey:cart"}
    [job] = w.sent_jobs()
    assert job["message"]["variables"] == {"body": {"code": "CART-00001"}}


def test_without_coupon_pools_the_static_code_is_used(w: JourneyWorld) -> None:
    w.coupons.empty.add("cart")
    raw = cart_journey()
    raw["start"] = "c"
    raw["steps"] = {
        "c": {"type": "coupon", "pool": "cart", "code": "STATIC10", "next": "s"},
        "s": {"type": "send", "template": "code", "variables": {"code": "{{coupon}}"}},
    }
    journey(w, raw)
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    assert w.sent_jobs()[0]["message"]["variables"] == {"body": {"code": "STATIC10"}}


def test_free_text_is_sent_only_inside_the_service_window(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "s"
    raw["steps"] = {"s": {"type": "send", "text": "Still there?"}}
    journey(w, raw)
    service.on_history_item(w.ports, item("cart_abandoned", "c1"), T0)
    assert w.sent_jobs() == []
    assert service.stats(w.ports, "j1")["sent"] == 0
    customer(w, "c_2", last_inbound_at=iso(T0 - timedelta(hours=2)))
    service.on_history_item(w.ports, item("cart_abandoned", "c1", cid="c_2"), T0)
    [job] = w.sent_jobs()
    assert job["category"] == "service" and job["message"]["text"] == "Still there?"


def test_a_b_split_is_stable_and_weighted(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "ab"
    raw["steps"] = {
        "ab": {
            "type": "split",
            "arms": [{"name": "A", "weight": 70, "next": "a"}, {"name": "B", "weight": 30, "next": "b"}],
        },
        "a": {"type": "send", "template": "ta"},
        "b": {"type": "send", "template": "tb"},
    }
    journey(w, raw)
    for i in range(1000):
        customer(w, f"c_{i}")
        service.on_history_item(w.ports, item("cart_abandoned", "x", cid=f"c_{i}"), T0)
    arms = [w.runs.get(f"c_{i}", "j1").arm for i in range(1000)]  # type: ignore[union-attr]
    assert 640 <= arms.count("A") <= 760
    assert service.stats(w.ports, "j1")["sent_by_step"] == {"a": arms.count("A"), "b": arms.count("B")}


def test_goal_converts_and_reports_an_ad_click_within_seven_days(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "g"
    raw["steps"] = {"g": {"type": "goal", "event": "order_placed", "within_minutes": 4320}}
    journey(w, raw)
    customer(w, "c_2")
    w.profiles.clicks[CID] = ("ARclid1", iso(T0 - timedelta(days=2)))
    w.profiles.clicks["c_2"] = ("ARold", iso(T0 - timedelta(days=10)))
    for cid in (CID, "c_2"):
        service.on_history_item(w.ports, item("cart_abandoned", "c", cid=cid), T0)
        ordered = item("order_placed", "o", T0 + timedelta(hours=1), cid=cid, total=10, currency="EUR")
        service.on_history_item(w.ports, ordered, T0)
    (event,) = w.conversions.events.values()
    assert event["user_data"] == {"ctwa_clid": "ARclid1"} and event["event_name"] == "Purchase"
    assert event["custom_data"] == {"value": 10.0, "currency": "EUR"}
    assert event["action_source"] == "business_messaging" and event["messaging_channel"] == "whatsapp"
    stats = service.stats(w.ports, "j1")
    assert stats["converted"] == 2 and stats["conversion_rate"] == 1.0 and stats["revenue"] == 20.0


def test_a_missed_goal_ends_the_run_as_goal_missed(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "g"
    raw["steps"] = {"g": {"type": "goal", "within_minutes": 60}}
    journey(w, raw)
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    service.sweep(w.ports, T0 + timedelta(hours=1))
    assert service.stats(w.ports, "j1")["exited"] == {"goal_missed": 1}


def test_a_reply_stops_a_run_when_the_journey_says_so(w: JourneyWorld) -> None:
    raw = cart_journey(stop_on=["reply"])
    journey(w, raw)
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    service.on_history_item(w.ports, item("message", "wamid.1", T0 + timedelta(minutes=5), type="text", text="hi"), T0)
    service.sweep(w.ports, T0 + timedelta(hours=5))
    assert w.sent_jobs() == [] and w.runs.get(CID, "j1").reason == "replied"  # type: ignore[union-attr]


def test_survey_answers_become_tags(w: JourneyWorld) -> None:
    service.install_defaults(w.ports, T0)
    service.set_enabled(w.ports, "survey", True, T0)
    w.customers.update(CID, last_inbound_at=iso(T0))
    w.profiles.first_messages[CID] = "wamid.first"
    service.on_history_item(w.ports, item("message", "wamid.first", type="text", text="hello"), T0)
    later = T0 + timedelta(minutes=3)
    answer = item("message", "wamid.a1", later, type="interactive", button_reply={"id": "q1-gift", "title": "A gift"})
    service.on_history_item(w.ports, answer, later)
    service.on_history_item(
        w.ports, item("message", "wamid.a2", later + timedelta(minutes=1), type="text", text="2"), later
    )
    assert {"survey:gift", "survey:quality"} <= w.profiles.tags(CID)
    assert [j["variant"] for j in w.sent_jobs()] == ["q1", "q2", "q3"]


# ---------------------------------------------------------------- exactly once
def test_a_duplicate_trigger_starts_one_run_and_one_send(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "s"
    raw["steps"] = {"s": {"type": "send", "template": "t"}}
    journey(w, raw)
    for _ in range(3):
        service.on_history_item(w.ports, item("cart_abandoned", "cart-1"), T0)
    assert len(w.sent_jobs()) == 1 and service.stats(w.ports, "j1")["entered"] == 1
    assert len(w.history.of(CID, "journey_entered")) == 1 and len(w.history.of(CID, "journey_ended")) == 1


def test_a_crash_between_a_step_and_its_write_repeats_the_step_with_the_same_send_key(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "c"
    raw["steps"] = {
        "c": {"type": "coupon", "pool": "cart", "next": "s"},
        "s": {"type": "send", "template": "t", "variables": {"code": "{{coupon}}"}, "next": "w"},
        "w": {"type": "wait", "minutes": 60, "next": "e"},
        "e": {"type": "exit"},
    }
    journey(w, raw)
    w.runs.crash_next = 0
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    jobs_before = w.sent_jobs()
    # the same journey for a second customer, crashing after the send was queued
    customer(w, "c_2")
    real_advance = w.runs.advance
    calls = {"n": 0}

    def crash_on_second(run: Any, **write: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 2:  # the send step's write
            raise RuntimeError("lambda timed out")
        return real_advance(run, **write)

    w.runs.advance = crash_on_second  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        service.on_history_item(w.ports, item("cart_abandoned", "c", cid="c_2"), T0)
    w.runs.advance = real_advance  # type: ignore[method-assign]
    stuck = w.runs.get("c_2", "j1")
    assert stuck is not None and stuck.step == "s" and stuck.state == "active"
    # the minute sweep finds it on the due index and drives it on from where it was written
    service.sweep(w.ports, T0 + timedelta(minutes=1))
    assert [j["customer_id"] for j in w.sent_jobs()].count("c_2") == 1  # a worker may still be on it
    service.sweep(w.ports, T0 + timedelta(minutes=3))
    jobs = [j for j in w.sent_jobs() if j["customer_id"] == "c_2"]
    assert len(jobs) == 2 and jobs[0] == jobs[1]  # queued twice, same send key and code: the sender sends once
    assert len(jobs_before) == 1
    assert service.stats(w.ports, "j1")["sent"] == 2  # counted once per customer
    assert w.runs.get("c_2", "j1").state == "waiting"  # type: ignore[union-attr]
    assert len(w.history.of("c_2", "journey_entered")) == 1


def test_the_end_of_a_run_and_its_history_item_are_one_write(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "e"
    raw["steps"] = {"e": {"type": "exit"}}
    journey(w, raw)
    real_put = w.history.put

    def no_history_after_the_move(customer_id: str, kind: str, *rest: Any) -> bool:
        if kind == "journey_ended":  # a crash right after the run's own write, were they two writes
            raise RuntimeError("lambda timed out")
        return real_put(customer_id, kind, *rest)

    w.history.put = no_history_after_the_move  # type: ignore[method-assign]
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    assert w.runs.get(CID, "j1").state == "done"  # type: ignore[union-attr]
    [ended] = w.history.of(CID, "journey_ended")
    assert ended["data"]["outcome"] == "exited" and ended["data"]["reason"] == "completed"
    # and a crash on that one write leaves neither: the sweep ends the run later, once
    other = customer(w, "c_2").id
    w.runs.crash_next = 1
    with pytest.raises(RuntimeError):
        service.on_history_item(w.ports, item("cart_abandoned", "c", cid=other), T0)
    assert w.runs.get(other, "j1").state == "active" and w.history.of(other, "journey_ended") == []  # type: ignore[union-attr]
    service.sweep(w.ports, T0 + timedelta(minutes=3))
    assert w.runs.get(other, "j1").state == "done" and len(w.history.of(other, "journey_ended")) == 1  # type: ignore[union-attr]


def test_two_workers_on_the_same_due_run_move_it_once(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "c"), T0)
    later = T0 + timedelta(hours=4)
    engine.wake(w.ports, CID, "j1", later)
    engine.wake(w.ports, CID, "j1", later)
    service.sweep(w.ports, later)
    assert len(w.sent_jobs()) == 1 and service.stats(w.ports, "j1")["exited"] == {"reminded": 1}


# ---------------------------------------------------------------- re-entry, versions, pause
def test_re_entry_waits_the_journeys_setting(w: JourneyWorld) -> None:
    raw = cart_journey()
    raw["start"] = "e"
    raw["steps"] = {"e": {"type": "exit"}}
    journey(w, raw)
    service.on_history_item(w.ports, item("cart_abandoned", "c1"), T0)
    service.on_history_item(w.ports, item("cart_abandoned", "c2", T0 + timedelta(days=29)), T0 + timedelta(days=29))
    assert service.stats(w.ports, "j1")["entered"] == 1
    service.on_history_item(w.ports, item("cart_abandoned", "c3", T0 + timedelta(days=30)), T0 + timedelta(days=30))
    assert service.stats(w.ports, "j1")["entered"] == 2
    assert w.runs.get(CID, "j1").run_no == 2  # type: ignore[union-attr]


def test_one_active_run_per_customer_and_journey(w: JourneyWorld) -> None:
    journey(w, cart_journey(reentry_days=0))
    service.on_history_item(w.ports, item("cart_abandoned", "c1"), T0)
    service.on_history_item(w.ports, item("cart_abandoned", "c2"), T0 + timedelta(minutes=1))
    assert service.stats(w.ports, "j1")["entered"] == 1


def test_runs_in_progress_finish_on_the_version_they_started(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "c1"), T0)
    edited = cart_journey()
    edited["steps"]["remind"] = {"type": "send", "template": "cart_reminder_v2", "next": "bye"}
    changed = service.update(w.ports, "j1", service.parse_definition(edited), T0)
    assert changed.version == 2
    customer(w, "c_2")
    service.on_history_item(w.ports, item("cart_abandoned", "c1", cid="c_2"), T0)
    service.sweep(w.ports, T0 + timedelta(hours=4))
    templates = {j["customer_id"]: j["message"]["template"] for j in w.sent_jobs()}
    assert templates == {CID: "cart_reminder", "c_2": "cart_reminder_v2"}


def test_pause_holds_runs_in_place_and_resume_continues_them(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "c1"), T0)
    service.set_enabled(w.ports, "j1", False, T0 + timedelta(hours=1))
    customer(w, "c_2")
    service.on_history_item(w.ports, item("cart_abandoned", "c1", cid="c_2"), T0 + timedelta(hours=1))
    assert w.runs.get("c_2", "j1") is None  # nobody enters a paused journey
    service.sweep(w.ports, T0 + timedelta(hours=5))
    assert w.sent_jobs() == [] and w.runs.get(CID, "j1").step == "wait"  # type: ignore[union-attr]
    service.set_enabled(w.ports, "j1", True, T0 + timedelta(hours=5, minutes=5))
    service.sweep(w.ports, T0 + timedelta(hours=5, minutes=5))
    assert w.sent_jobs() == []  # held until its re-check time, at most 15 minutes after the resume
    service.sweep(w.ports, T0 + timedelta(hours=5, minutes=15))
    assert len(w.sent_jobs()) == 1
    assert w.runs.get(CID, "j1").reason == "reminded"  # type: ignore[union-attr]


def test_a_deleted_journey_ends_its_runs(w: JourneyWorld) -> None:
    journey(w, cart_journey())
    service.on_history_item(w.ports, item("cart_abandoned", "c1"), T0)
    service.delete(w.ports, "j1")
    service.sweep(w.ports, T0 + timedelta(hours=4))
    assert w.runs.get(CID, "j1").reason == "journey_deleted"  # type: ignore[union-attr]


def test_tag_triggers_start_runs(w: JourneyWorld) -> None:
    service.install_defaults(w.ports, T0)
    service.set_enabled(w.ports, "vip-offer", True, T0)
    change = TagChange(customer_id=CID, tag="rfm:vip", action="add", source="rule:r1", event_id="evt-1", at=iso(T0))
    entered = service.on_tag_changes(w.ports, [change, change], T0)
    assert entered == 1
    assert JourneyIn.model_validate(DEFAULTS["vip-offer"]).trigger.type == "tag_added"

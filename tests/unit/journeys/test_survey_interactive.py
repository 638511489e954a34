"""Survey questions as interactive messages: reply buttons for up to 3 answers, a list for 4-10,
only inside the service window, and each tapped answer (its id) becomes the button's tag."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from engage.adapters.whatsapp import WhatsAppClient, body_parameters, request_body
from engage.core.settings import WhatsAppSettings
from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import InteractiveMessage, SendJob, TemplateMessage
from engage.delivery.outbound import Choice, Outbound
from engage.journeys import service
from engage.journeys.model import JourneyIn
from tests.fakes.cloud_api import FakeGraph
from tests.fakes.journeys import JourneyWorld
from tests.fakes.sending import T0, add_campaign, world
from tests.unit.journeys.test_engine import CID, customer, item, journey

COLOURS = ["Red", "Blue", "Green", "Black", "White"]


def question(n: int) -> dict:
    return {
        "name": "colours",
        "trigger": {"type": "first_inbound"},
        "start": "q",
        "steps": {
            "q": {
                "type": "send",
                "text": "Which colour do you like?",
                "buttons": [{"id": f"c-{c.lower()}", "title": c, "tag": f"colour:{c.lower()}"} for c in COLOURS[:n]],
                "next": "a",
            },
            "a": {"type": "wait_event", "event": "reply", "timeout_minutes": 60, "on_event": "e", "on_timeout": "e"},
            "e": {"type": "exit"},
        },
    }


@pytest.fixture
def w() -> JourneyWorld:
    world_ = JourneyWorld()
    customer(world_, last_inbound_at=iso(T0))
    world_.profiles.first_messages[CID] = "wamid.first"
    return world_


def test_the_default_survey_asks_with_reply_buttons_and_tags_the_tapped_answer(w: JourneyWorld) -> None:
    service.install_defaults(w.ports, T0)
    service.set_enabled(w.ports, "survey", True, T0)
    service.on_history_item(w.ports, item("message", "wamid.first", type="text", text="hello"), T0)
    (q1,) = w.sent_jobs()
    job = SendJob.model_validate(q1)
    assert isinstance(job.message, InteractiveMessage) and job.category == "service"
    assert [(c.id, c.title) for c in job.message.choices] == [("q1-self", "For me"), ("q1-gift", "A gift")]
    # What the inbound side stores for a tapped reply button: the id as `payload`, the title as `text`.
    later = T0 + timedelta(minutes=2)
    tapped = item("message", "wamid.a1", later, type="interactive", interactive_type="button_reply",
                  payload="q1-gift", text="A gift")  # fmt: skip
    service.on_history_item(w.ports, tapped, later)
    assert "survey:gift" in w.profiles.tags(CID)
    assert [j["variant"] for j in w.sent_jobs()] == ["q1", "q2"]  # the next question right after the answer


def test_a_list_reply_becomes_its_rows_tag(w: JourneyWorld) -> None:
    journey(w, question(5))
    service.on_history_item(w.ports, item("message", "wamid.first", type="text", text="hi"), T0)
    picked = item("message", "wamid.a", T0 + timedelta(minutes=1), type="interactive",
                  interactive_type="list_reply", payload="c-black", text="Black")  # fmt: skip
    service.on_history_item(w.ports, picked, T0 + timedelta(minutes=1))
    assert "colour:black" in w.profiles.tags(CID)


def test_a_question_outside_the_service_window_is_not_sent(w: JourneyWorld) -> None:
    w.customers.update(CID, last_inbound_at=iso(T0 - timedelta(hours=25)))
    journey(w, question(2))
    service.on_history_item(w.ports, item("message", "wamid.first", T0 - timedelta(hours=25), type="text"), T0)
    stats = service.stats(w.ports, "j1")
    assert w.sent_jobs() == [] and stats["sent"] == 0 and stats["active"] == {"a": 1}  # skipped, the run goes on


def test_a_question_text_over_the_interactive_limit_is_refused() -> None:
    raw = question(2)
    raw["steps"]["q"]["text"] = "x" * 1025
    with pytest.raises(ValueError, match="at most 1024"):
        JourneyIn.model_validate(raw)


# ---------------------------------------------------------------- the wire format
def choices(n: int) -> list[Choice]:
    return [Choice(id=f"c{i}", title=f"Choice {i}") for i in range(n)]


def test_up_to_three_choices_are_reply_buttons_and_more_a_list() -> None:
    three = request_body(Outbound(to="4915112345678", kind="interactive", text="Pick one", choices=choices(3)))
    assert three["type"] == "interactive" and three["interactive"]["type"] == "button"
    assert three["interactive"]["action"]["buttons"][0] == {"type": "reply", "reply": {"id": "c0", "title": "Choice 0"}}
    five = request_body(Outbound(to="4915112345678", kind="interactive", text="Pick one", choices=choices(5)))
    action = five["interactive"]["action"]
    assert five["interactive"]["type"] == "list" and action["button"] == "Choose"
    assert [r["id"] for r in action["sections"][0]["rows"]] == ["c0", "c1", "c2", "c3", "c4"]


def test_the_fake_cloud_api_refuses_four_buttons_and_eleven_rows_as_whatsapp_does() -> None:
    graph = FakeGraph()
    settings = WhatsAppSettings(
        WHATSAPP_ACCESS_TOKEN="t", WHATSAPP_PHONE_NUMBER_ID="800000000000002", WHATSAPP_API_BASE="https://g.test/v25.0"
    )
    client = WhatsAppClient(settings, http=httpx.Client(transport=httpx.MockTransport(graph)))
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": "x"}} for i in range(4)]
    four = {
        "messaging_product": "whatsapp",
        "to": "4915112345678",
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "?"}, "action": {"buttons": buttons}},
    }
    refused = httpx.Client(transport=httpx.MockTransport(graph)).post("https://g.test/v25.0/1/messages", json=four)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 131009
    eleven = client.send(Outbound(to="4915112345678", kind="interactive", text="?", choices=choices(11)))
    assert eleven.error is not None and eleven.error.code == 131009 and "10" in eleven.error.message
    ten = client.send(Outbound(to="4915112345678", kind="interactive", text="?", choices=choices(10)))
    assert ten.ok and graph.sent[-1]["interactive"]["type"] == "list"


def test_the_sender_sends_interactive_only_inside_the_service_window() -> None:
    w_ = world()
    add_campaign(w_)
    w_.customers.add(Customer(id="c_9", wa_id="4915112349999", consent=Consent(marketing=True)))
    job = SendJob(
        customer_id="c_9",
        send_key="journey:survey:1:q1",
        category="service",
        message=InteractiveMessage(text="Which one?", choices=choices(2)),
    )
    assert w_.sender.handle(job).reason == "needs_template"
    w_.customers.update("c_9", last_inbound_at=iso(T0 - timedelta(hours=1)))
    assert w_.sender.handle(job.model_copy(update={"send_key": "journey:survey:2:q1"})).action == "sent"
    ((_, sent),) = w_.whatsapp.sent
    assert sent.kind == "interactive" and [c.id for c in sent.choices] == ["c0", "c1"]


def test_the_local_fake_whatsapp_accepts_what_the_adapter_sends_and_refuses_eleven_rows() -> None:
    from local.fake_whatsapp import GraphError, validate

    for n in (2, 3, 4, 10):
        body = request_body(Outbound(to="4915112345678", kind="interactive", text="?", choices=choices(n)))
        assert validate(body) == ("4915112345678", "interactive")
    eleven = request_body(Outbound(to="4915112345678", kind="interactive", text="?", choices=choices(11)))
    with pytest.raises(GraphError) as refused:
        validate(eleven)
    assert refused.value.code == 131009 and "10" in refused.value.details


# ---------------------------------------------------------------- a question asked by template
def template_question() -> dict:
    raw = question(2)
    raw["trigger"] = {"type": "event", "event": "product_viewed"}
    raw["steps"]["q"] = {
        "type": "send",
        "template": "colour_poll",
        "variables": {"product": "Trail shoe"},
        "buttons": [{"id": "c-red", "title": "Red", "tag": "colour:red"}, {"id": "c-blue", "title": "Blue"}],
        "next": "a",
    }
    return raw


def test_a_template_question_sends_its_answers_as_quick_reply_payloads_and_tags_the_tapped_one(
    w: JourneyWorld,
) -> None:
    w.customers.update(CID, last_inbound_at=None)  # outside the service window: only a template may ask
    journey(w, template_question())
    service.on_history_item(w.ports, item("product_viewed", "view-1"), T0)
    (job,) = w.sent_jobs()
    assert job["message"]["variables"] == {
        "body": {"product": "Trail shoe"},
        "buttons": [
            {"index": 0, "sub_type": "quick_reply", "value": "c-red"},
            {"index": 1, "sub_type": "quick_reply", "value": "c-blue"},
        ],
    }
    later = T0 + timedelta(hours=2)  # a template quick reply arrives as type `button` with its payload
    service.on_history_item(
        w.ports, item("message", "wamid.b", later, type="button", payload="c-red", text="Red"), later
    )
    assert "colour:red" in w.profiles.tags(CID)


def test_a_journey_templates_named_variables_reach_whatsapp_as_named_body_parameters() -> None:
    w_ = world()
    w_.customers.add(Customer(id="c_9", wa_id="4915112349999", consent=Consent(marketing=True)))
    message = TemplateMessage(template="welcome_code", variables={"body": {"code": "WELCOME-7K2P"}})
    w_.sender.handle(SendJob(customer_id="c_9", send_key="journey:welcome:1:hello", campaign_id="journey:welcome",
                             category="utility", message=message))  # fmt: skip
    ((_, sent),) = w_.whatsapp.sent
    assert body_parameters(sent) == [{"type": "text", "parameter_name": "code", "text": "WELCOME-7K2P"}]

"""WhatsApp recategorises or pauses a template: the campaigns using it are re-routed or paused, with an alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.campaigns.campaign import Campaign, Variant
from engage.campaigns.template_updates import TemplateCategoryChange, TemplateStatusChange, TemplateUpdates
from engage.campaigns.templates import Template
from engage.core.time import iso
from engage.customers.profiles import Consent, Customer
from engage.delivery.jobs import SendJob, TemplateMessage
from tests.fakes.sending import T0, FakeAlerts, FakeCampaigns, FakeTemplates, world


def campaign(cid: str, status: str, template: str = "back_in_stock", category: str = "utility") -> Campaign:
    return Campaign(
        id=cid,
        name=cid,
        rule={"tag": "vip"},
        category=category,
        variants=[Variant(template=template)],
        status=status,
        created_at=iso(T0),
        template_categories={template: category},
    )


def updates(*campaigns: Campaign) -> tuple[TemplateUpdates, FakeCampaigns, FakeAlerts, FakeTemplates]:
    store, alerts = FakeCampaigns(), FakeAlerts()
    for c in campaigns:
        store.items[c.id] = c
    templates = FakeTemplates(
        Template(name="back_in_stock", language="en_US", category="utility", body="Hi {{1}}", created_at=iso(T0))
    )
    return TemplateUpdates(campaigns=store, alerts=alerts, templates=templates), store, alerts, templates


def became(new: str, previous: str = "UTILITY", name: str = "back_in_stock") -> TemplateCategoryChange:
    return TemplateCategoryChange.model_validate(
        {
            "message_template_id": 1234567891,
            "message_template_name": name,
            "message_template_language": "en_US",
            "previous_category": previous,
            "new_category": new,
        }
    )


def test_a_template_that_becomes_marketing_pauses_running_campaigns_and_reroutes_the_others():
    # Given campaigns in every state that use the template, and one that does not
    svc, store, alerts, templates = updates(
        campaign("running", "running"),
        campaign("scheduled", "scheduled"),
        campaign("draft", "draft"),
        campaign("done", "completed"),
        campaign("other", "running", template="order_update"),
    )
    # When WhatsApp says the template is MARKETING now
    applied = svc.category_changed(became("MARKETING"), T0)
    # Then running and scheduled campaigns are paused with a reason, the draft is re-routed
    assert sorted(applied.paused) == ["running", "scheduled"] and applied.rerouted == ["draft"]
    for cid in ("running", "scheduled", "draft"):
        c = store.items[cid]
        assert c.category == "marketing" and c.template_categories == {"back_in_stock": "marketing"}
    assert store.items["running"].status == "paused" and "MARKETING" in (store.items["running"].pause_reason or "")
    assert store.items["done"].category == "utility" and store.items["other"].status == "running"
    # the stored template follows, and one alert names what happened
    assert templates.get("back_in_stock", "en_US").category == "marketing"
    ((title, details),) = alerts.published
    assert "MARKETING" in title and sorted(details["paused"]) == ["running", "scheduled"]


def test_a_replayed_notification_changes_nothing_and_alerts_once():
    svc, store, alerts, _ = updates(campaign("running", "running"))
    svc.category_changed(became("MARKETING"), T0)
    again = svc.category_changed(became("MARKETING"), T0 + timedelta(minutes=5))
    assert again.paused == again.rerouted == [] and len(alerts.published) == 1


def test_a_marketing_template_that_becomes_utility_is_rerouted_and_keeps_marketing_rules():
    svc, store, alerts, _ = updates(campaign("running", "running", category="marketing"))
    applied = svc.category_changed(became("UTILITY", previous="MARKETING"), T0)
    c = store.items["running"]
    assert applied.rerouted == ["running"] and c.status == "running"
    assert c.template_categories == {"back_in_stock": "utility"} and c.category == "marketing"
    assert len(alerts.published) == 1


def test_an_impending_change_only_alerts():
    svc, store, alerts, _ = updates(campaign("running", "running"))
    impending = TemplateCategoryChange.model_validate(
        {
            "message_template_id": 1,
            "message_template_name": "back_in_stock",
            "message_template_language": "en_US",
            "correct_category": "MARKETING",
            "new_category": "UTILITY",
            "category_update_timestamp": 1795514400,
        }
    )
    applied = svc.category_changed(impending, T0)
    assert applied.alerted and applied.paused == applied.rerouted == []
    assert store.items["running"].status == "running" and store.items["running"].category == "utility"
    assert alerts.published[0][1]["campaigns"] == ["running"]


@pytest.mark.parametrize("event", ["PAUSED", "DISABLED"])
def test_a_paused_or_disabled_template_pauses_its_running_campaigns(event):
    svc, store, alerts, templates = updates(campaign("running", "running"), campaign("draft", "draft"))
    change = TemplateStatusChange.model_validate(
        {"event": event, "message_template_id": 1, "message_template_name": "back_in_stock", "reason": "LOW_QUALITY"}
    )
    applied = svc.status_changed(change, T0)
    assert applied.paused == ["running"] and store.items["draft"].status == "draft"
    assert templates.get("back_in_stock", "en_US").status == event.lower() and len(alerts.published) == 1


@given(
    st.sampled_from(["MARKETING", "UTILITY", "AUTHENTICATION", "SHIPPING_UPDATE", ""]),
    st.lists(st.sampled_from(["draft", "scheduled", "running", "paused", "completed", "cancelled"]), max_size=6),
)
def test_whatever_the_change_no_finished_campaign_moves_and_nothing_is_left_running_under_looser_rules(new, states):
    svc, store, _, _ = updates(*(campaign(f"c{i}", s) for i, s in enumerate(states)))
    svc.category_changed(became(new), T0)
    for i, state in enumerate(states):
        c = store.items[f"c{i}"]
        if state in ("completed", "cancelled"):
            assert c.status == state and c.category == "utility"
        elif new == "MARKETING":
            assert c.category == "marketing" and c.status not in ("running", "scheduled")


def test_after_a_recategorisation_queued_jobs_follow_the_campaign_rules_and_route():
    # Given a utility campaign's job queued before its template became MARKETING
    w = world()
    svc = TemplateUpdates(campaigns=w.campaigns, alerts=w.alerts)
    w.campaigns.items["cmp_1"] = campaign("cmp_1", "paused")
    svc.category_changed(became("MARKETING"), T0)
    c = w.campaigns.items["cmp_1"]
    w.campaigns.items["cmp_1"] = c.model_copy(update={"status": "running", "ends_at": iso(T0 + timedelta(days=3))})
    no_consent = w.customers.add(Customer(id="c_1", wa_id="4915123400001", consent=Consent(marketing=False)))
    opted_in = w.customers.add(Customer(id="c_2", wa_id="4915123400002", consent=Consent(marketing=True)))
    job = SendJob(
        customer_id="", send_key="cmp_1", campaign_id="cmp_1", variant="A", category="utility",
        message=TemplateMessage(template="back_in_stock"),
    )  # fmt: skip
    # When the sender takes them after the marketer resumed the campaign
    refused = w.sender.handle(job.model_copy(update={"customer_id": no_consent.id}))
    sent = w.sender.handle(job.model_copy(update={"customer_id": opted_in.id}))
    # Then marketing rules apply (consent) and the send goes through the Marketing Messages API
    assert (refused.action, refused.reason) == ("refused", "no_consent")
    assert sent.action == "sent" and w.whatsapp.sent[-1][1].endpoint == "marketing_messages"

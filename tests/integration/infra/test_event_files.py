"""events/webhook/ is built from events/whatsapp/ (`make events`); a body edited without rebuilding fails here."""

from __future__ import annotations

from events.build import stale


def test_the_signed_webhook_events_are_built_from_the_whatsapp_bodies():
    assert stale() == [], "events/webhook/ is out of date with events/whatsapp/: run `make events`"

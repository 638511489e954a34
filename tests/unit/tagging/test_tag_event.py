"""The tagger's step on in-memory fakes of its ports: reads only what the rules need, writes once."""

from __future__ import annotations

from typing import Any

import pytest

from engage.core.time import parse_iso
from engage.tagging.rules import Event, default_rules
from engage.tagging.service import Tagging, tag_event

pytestmark = pytest.mark.disable_socket

CID = "c_" + "1" * 32


class Fakes:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.held: dict[str, dict[str, Any]] = {}
        self.history: list[Event] = []

    # RuleStore / catalog
    def enabled(self) -> list[Any]:
        return default_rules()

    def all(self, *, fresh: bool = False) -> dict[str, Any]:
        return {}

    def create(self, definition: Any, entry: Any) -> bool:
        self.calls.append(f"register {definition.name}")
        return True

    # memberships / reads
    def of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        self.calls.append("tags")
        return list(self.held.values())

    def history_of(self, customer_id: str, since: Any, until: Any) -> list[Event]:
        self.calls.append("history")
        return [e for e in self.history if since <= e.occurred_at <= until]

    def aggregates(self, customer_id: str) -> tuple[dict, dict]:
        self.calls.append("aggregates")
        return {"orders": 1}, {}

    # writer
    def apply(self, changes: list[Any]) -> list[Any]:
        fresh = [c for c in changes if not (c.action == "add" and c.tag in self.held)]
        for c in fresh:
            if c.action == "add":
                self.held[c.tag] = {"name": c.tag, "source": c.source}
            else:
                self.held.pop(c.tag, None)
        return fresh


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def t(fakes: Fakes) -> Tagging:
    reads = type("Reads", (), {"history": staticmethod(fakes.history_of), "aggregates": staticmethod(fakes.aggregates)})
    return Tagging(catalog=fakes, rules=fakes, writer=fakes, memberships=fakes, reads=reads, batches=None)  # type: ignore[arg-type]


def item(kind: str, event_id: str, at: str, **data: Any) -> dict[str, Any]:
    return {"customer_id": CID, "kind": kind, "event_id": event_id, "occurred_at": at, "data": data}


def test_a_message_no_rule_matches_reads_nothing_and_writes_nothing(t, fakes):
    assert tag_event(t, item("message", "w1", "2026-11-23T10:00:00Z", type="text", text="hello")) == []
    assert fakes.calls == []


def test_a_matching_message_reads_the_tags_once_and_registers_the_new_tag(t, fakes):
    changes = tag_event(t, item("message", "w1", "2026-11-23T10:00:00Z", type="text", text="Any DISCOUNT?"))
    assert [c.tag for c in changes] == ["interest:price-sensitive"]
    assert fakes.calls == ["tags", "register interest:price-sensitive"]
    assert tag_event(t, item("message", "w2", "2026-11-23T10:05:00Z", type="text", text="discount")) == []


def test_clicks_read_the_seven_day_history_window(t, fakes):
    fakes.history = [Event(CID, "link_clicked", "c1", parse_iso("2026-11-16T10:00:00Z"), {"url": "u"})]
    changes = tag_event(t, item("link_clicked", "c2", "2026-11-23T10:00:00Z", url="u", label="Shop"))
    assert "history" in fakes.calls
    assert [c.tag for c in changes] == ["intent:high"]

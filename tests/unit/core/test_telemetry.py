"""Operational metric helpers (pure parts)."""

from __future__ import annotations

import pytest

from engage.core.telemetry import receipt_to_answer_ms

NOW = 1_795_428_930_000


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (NOW - 400, 400),  # a live request: from API Gateway's receipt (a cold start included)
        (NOW - 5, 12),  # never less than the handler's own time (clocks differ a little)
        (NOW + 3, 12),  # a receipt a few ms "after" now: another host's clock
        (None, 12),  # no receipt in the event
        (NOW - 3_600_000, 12),  # a replayed event from an hour ago
        (NOW + 86_400_000, 12),  # a hand-made event dated tomorrow
    ],
)
def test_latency_runs_from_the_receipt_of_a_live_request_else_from_the_handlers_start(received, expected):
    assert receipt_to_answer_ms(received, NOW, handled_ms=12) == expected

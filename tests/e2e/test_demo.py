"""`make demo` tells its story end to end and exits 0."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_every_step(capsys):
    from local.demo import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "== foundation" in out and "Demo finished" in out

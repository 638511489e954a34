"""A fuzz test that met only known 5xx classes (fixed elsewhere, KNOWN_ELSEWHERE in its module) is
reported as xfail naming them. The figures' hooks are in figures.py, loaded by tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    known = getattr(item.module, "known_reason", None)
    if call.when == "call" and not report.skipped and known is not None:
        reason = known(item, report.failed)
        if reason:
            report.outcome = "skipped"
            report.wasxfail = reason
    return report

"""The schema fuzz's figures, printed at the end of a run: the worker that ran the fuzz writes them to a
file the controller names. These hooks live in tests/conftest.py, which xdist's controller loads."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

FIGURES_ENV = "ENGAGE_CONTRACT_FIGURES"


def figures_path() -> Path:
    return Path(os.environ.get(FIGURES_ENV) or Path(tempfile.gettempdir()) / f"engage-contract-{os.getpid()}.json")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller: xdist's workers inherit the variable
        handle, name = tempfile.mkstemp(prefix="engage-contract-", suffix=".json")
        os.close(handle)
        os.unlink(name)
        os.environ[FIGURES_ENV] = name


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    path = figures_path()
    if not path.exists():
        return
    figures = json.loads(path.read_text())
    path.unlink()
    terminalreporter.section("API schema fuzzing (schemathesis)")
    terminalreporter.line(
        f"requests: {figures['requests']}  operations covered: {figures['operations_covered']}"
        f"/{figures['operations_documented']}  5xx: {figures['server_errors']}"
        f"  schema mismatches: {figures['schema_mismatches']}"
    )
    for line in figures["server_error_classes"]:
        terminalreporter.line(f"  5xx class: {line}")
    for line in figures["failures"][:30]:
        terminalreporter.line(f"  mismatch: {line}")

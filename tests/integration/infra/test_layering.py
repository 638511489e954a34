"""The import contracts of `make lint` (.importlinter) hold today, and fail when a capability reaches
for an adapter, the wiring or an SDK: proven on a copy of the code with such imports added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
SHORTCUT = '''"""A capability taking shortcuts the layering forbids."""

import boto3

from engage import wiring
from engage.adapters.dynamo import keys
'''


def lint_imports(source_root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source_root) + os.pathsep + str(source_root / "layers/common/python")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_code(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "layers/common/python/engage", target / "layers/common/python/engage", ignore=ignore)
    shutil.copytree(ROOT / "functions", target / "functions", ignore=ignore)
    return target


def test_the_code_keeps_every_import_contract(tmp_path):
    result = lint_imports(ROOT, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_capability_importing_an_adapter_the_wiring_or_an_sdk_breaks_the_contracts(tmp_path):
    # Given a copy of the code where the segments capability imports the wiring, an adapter and boto3
    code = copy_of_the_code(tmp_path / "code")
    (code / "layers/common/python/engage/segments/shortcut.py").write_text(SHORTCUT)
    # When the contracts run over it
    result = lint_imports(code, cwd=tmp_path)
    # Then lint fails, naming each forbidden import
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Capabilities import no adapter, wiring, http or schedules BROKEN" in out
    assert "Capabilities import no AWS SDK and no HTTP client BROKEN" in out
    assert "engage.segments.shortcut -> engage.wiring" in out
    assert "engage.segments.shortcut -> engage.adapters.dynamo.keys" in out
    assert "engage.segments.shortcut -> boto3" in out

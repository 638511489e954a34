"""The local runtime as a separate process, for tests that drive it over HTTP like a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_runtime(log_path: Path, *, timeout: float = 90) -> tuple[subprocess.Popen[bytes], str]:
    """Starts `python -m local.runtime --port 0` and answers the process and its URL. Its output goes
    to a file (a full pipe would block it)."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common' / 'python'}"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.runtime", "--port", "0", "--log-level", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for line in log_path.read_text().splitlines():
            if line.startswith("Engage local runtime on "):
                return process, line.split()[4]
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the local runtime did not start:\n{log_path.read_text()[-3000:]}")

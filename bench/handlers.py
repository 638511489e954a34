"""Cold import time of each handler module, and AWS requests per handled sample event.

Import time: a fresh interpreter per handler with `python -X importtime`, three runs, median of
the handler module's cumulative import time. Requests: every events/<function>/*.json sample run
through its real handler on moto, counted with botocore's before-call hook (run twice: the second
run shows a replay of the same event).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import moto_stack, table_row
from tests.conftest import FakeLambdaContext

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ["webhook", "api", "tagger", "metrics", "dispatcher", "sender", "scheduler"]


def import_ms(module: str, runs: int = 3) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    samples = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        for line in result.stderr.splitlines():
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
            if match and match.group(2) == module:
                samples.append(int(match.group(1)) / 1000)
    return statistics.median(samples)


def run() -> None:
    print("Cold import time per handler module (median of 3 fresh interpreters)")
    print(table_row("module", "import ms", widths=(28, 12)))
    for folder in FOLDERS:
        if (ROOT / "functions" / folder / "app.py").exists():
            print(table_row(f"functions.{folder}.app", import_ms(f"functions.{folder}.app"), widths=(28, 12)))

    print("\nAWS requests per handled sample event (first run / replay of the same event)")
    print(table_row("event", "first", "replay", "operations (first run)", widths=(40, 7, 7, 10)))
    with moto_stack() as (_, counter):
        for folder in FOLDERS:
            if not (ROOT / "functions" / folder / "app.py").exists():
                continue
            handler = importlib.import_module(f"functions.{folder}.app").lambda_handler
            for path in sorted((ROOT / "events" / folder).glob("*.json")):
                event = json.loads(path.read_text())
                counts = []
                ops = ""
                for attempt in range(2):
                    counter.reset()
                    try:
                        handler(event, FakeLambdaContext())
                    except Exception as error:  # a sample that needs earlier state still shows its cost
                        ops = f"raised {type(error).__name__}"
                    counts.append(counter.total())
                    if attempt == 0 and not ops:
                        ops = ", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in sorted(counter.calls.items()))
                print(table_row(f"{folder}/{path.stem}", counts[0], counts[1], ops, widths=(40, 7, 7, 10)))

"""AWS requests per handled sample event (cold import times: `python -m bench imports-time`).

Every events/<function>/*.json sample run through its real handler on moto, counted with
botocore's before-call hook (run twice: the second run shows a replay of the same event).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from bench.common import moto_stack, table_row
from tests.conftest import FakeLambdaContext

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ["webhook", "api", "tagger", "metrics", "dispatcher", "sender", "scheduler"]


def run() -> None:
    print("AWS requests per handled sample event (first run / replay of the same event)")
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

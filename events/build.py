"""Builds events/webhook/*.json from events/whatsapp/*.json: `python -m events.build` (or `make events`).

events/whatsapp/<name>.json holds a WhatsApp notification body as Meta posts it; it is the one source.
events/webhook/<name>.json is the same body as API Gateway (HTTP API v2, stage "dev") hands `POST /webhook`
to the function, signed with the local app secret; events/webhook/verify.json is the verification GET.
The wrapping is the tests' own (`tests.helpers.whatsapp.signed_webhook_event`), so a committed event is
exactly what a test builds from the same body.

`python -m events.build --check` writes nothing and exits 1 when a committed file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.helpers.whatsapp import SAMPLES, WEBHOOK_EVENTS, signed_webhook_event, verification_event

VERIFICATION = "verify.json"


def _dump(event: dict) -> str:
    return json.dumps(event, indent=2) + "\n"


def build() -> dict[str, str]:
    """Every events/webhook/ file, by name, as it should read (built in memory)."""
    files = {
        path.name: _dump(signed_webhook_event(json.loads(path.read_text()))) for path in sorted(SAMPLES.glob("*.json"))
    }
    files[VERIFICATION] = _dump(verification_event())
    return files


def stale(folder: Path = WEBHOOK_EVENTS) -> list[str]:
    """The names in `folder` that differ from `build()`: changed, missing, or not built from a body."""
    wanted = build()
    present = {path.name: path.read_text() for path in folder.glob("*.json")}
    return sorted(name for name in wanted.keys() | present.keys() if wanted.get(name) != present.get(name))


def write(folder: Path = WEBHOOK_EVENTS) -> list[Path]:
    """Writes the files that are out of date and removes those no body builds; returns what changed."""
    folder.mkdir(exist_ok=True)
    wanted = build()
    changed = []
    for name in stale(folder):
        path = folder / name
        if name in wanted:
            path.write_text(wanted[name])
        else:
            path.unlink()
        changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        out_of_date = stale()
        for name in out_of_date:
            print(f"events/webhook/{name} is out of date: run `make events`")
        return 1 if out_of_date else 0
    if argv:
        print("usage: python -m events.build [--check]", file=sys.stderr)
        return 2
    for path in write():
        print(f"{path.relative_to(WEBHOOK_EVENTS.parent.parent)} {'written' if path.exists() else 'removed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

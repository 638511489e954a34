"""Writes or checks the committed OpenAPI document: `python -m functions.api.openapi [--check]`.

`make openapi` writes openapi.json at the repository's root; `make lint` runs `--check`, which fails
when the routes' document differs from the committed one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    from functions.api.app import document

    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed document differs")
    parser.add_argument("--path", type=Path, default=COMMITTED)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is out of date with the routes: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{args.path} matches the routes")
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

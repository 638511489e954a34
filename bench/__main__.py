"""Runs the benchmarks named on the command line (all by default) and prints their figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

SKIP = {"common", "__main__"}


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in SKIP)


def main(argv: list[str]) -> int:
    names = [name.replace("-", "_") for name in argv] or available()  # `imports-time` is bench/imports_time.py
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}")
        return 2
    for name in names:
        print(f"\n=== bench.{name} " + "=" * max(0, 60 - len(name)))
        start = time.perf_counter()
        importlib.import_module(f"bench.{name}").run()
        print(f"--- bench.{name} took {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Cold import time of each function (median of 5 fresh interpreters); `bench cost` prints it too."""

from __future__ import annotations


def run() -> None:
    from bench.cost import print_imports

    print_imports()

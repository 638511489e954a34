"""The hourly import limit on moto: starts racing for the last places of the hour, and places freeing up."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engage.audience.imports import IMPORTS_PER_HOUR, ImportJob, start_import
from engage.core.errors import RateLimited
from engage.core.time import iso, parse_iso

NOW = parse_iso("2026-11-23T10:00:00Z")


def job(n: int, at: str) -> ImportJob:
    return ImportJob(id=f"imp_race{n:04d}", created_at=at, by="mara", filename=f"{n}.csv")


def race(repository, jobs: list[ImportJob], since: str) -> list[bool]:
    """Every job's create() at the same moment, each from its own thread (its own Lambda container)."""
    gate = threading.Barrier(len(jobs))
    results: dict[str, bool] = {}

    def start(candidate: ImportJob) -> None:
        gate.wait()
        results[candidate.id] = repository.create(candidate, since=since, per_window=IMPORTS_PER_HOUR)

    threads = [threading.Thread(target=start, args=(j,)) for j in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[j.id] for j in jobs]


@pytest.fixture
def repository(serialized_dynamodb):
    from engage.wiring import audience

    return audience.imports()


def test_two_starts_racing_for_the_last_place_of_the_hour_cannot_both_win(repository):
    since = iso(NOW - timedelta(hours=1))
    assert repository.create(job(1, iso(NOW)), since=since, per_window=IMPORTS_PER_HOUR)
    assert repository.create(job(2, iso(NOW)), since=since, per_window=IMPORTS_PER_HOUR)
    outcomes = race(repository, [job(3, iso(NOW)), job(4, iso(NOW))], since)
    assert sorted(outcomes) == [False, True]
    # The loser wrote nothing: two of the racers' import items, not three.
    assert [repository.get(f"imp_race{n:04d}") is not None for n in (3, 4)] == outcomes


def test_eight_simultaneous_starts_in_an_empty_hour_let_exactly_three_through(repository):
    outcomes = race(repository, [job(n, iso(NOW)) for n in range(8)], iso(NOW - timedelta(hours=1)))
    assert outcomes.count(True) == IMPORTS_PER_HOUR


def test_a_place_frees_up_an_hour_after_the_import_that_took_it(aws):
    from engage.wiring import audience

    ports = audience.import_ports()
    body = b"phone\n+4915123456789\n"
    for minute in (0, 10, 20):
        start_import(ports, None, body, by="mara", now=NOW + timedelta(minutes=minute))
    with pytest.raises(RateLimited) as refused:
        start_import(ports, None, body, by="mara", now=NOW + timedelta(minutes=59))
    assert refused.value.status == 429 and refused.value.code == "import_rate_limited"
    # An hour after the first: one place again, and only one.
    start_import(ports, None, body, by="mara", now=NOW + timedelta(minutes=60, seconds=1))
    with pytest.raises(RateLimited):
        start_import(ports, None, body, by="mara", now=NOW + timedelta(minutes=61))
    # After the second and third are an hour old too, two more.
    later = NOW + timedelta(minutes=80, seconds=1)
    start_import(ports, None, body, by="mara", now=later)
    start_import(ports, None, body, by="mara", now=later)
    with pytest.raises(RateLimited):
        start_import(ports, None, body, by="mara", now=later)

"""`/app` on the local runtime: the built console's files, index.html for every app route (SPA routing),
hashed assets cached for good, never a file outside the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from local import console


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("not for the browser")
    return tmp_path


def header(response, name: str) -> str:
    return dict(response.headers)[name]


def test_a_built_file_is_served_with_its_type_and_hashed_assets_are_immutable(dist: Path):
    response = console.serve("/app/assets/index-abc123.js", dist)
    assert response.status == 200 and response.body == b"console.log(1)"
    assert header(response, "content-type").startswith("text/javascript")
    assert "immutable" in header(response, "cache-control")


@pytest.mark.parametrize("path", ["/app", "/app/", "/app/campaigns/cmp_1", "/app/segments?id=seg_1", "/app/nope.js"])
def test_every_other_path_under_app_is_the_app_itself_never_cached(dist: Path, path: str):
    response = console.serve(path, dist)
    assert response.status == 200 and b"<title>console</title>" in response.body
    assert header(response, "cache-control") == "no-cache"


def test_no_path_reaches_outside_the_build(dist: Path):
    response = console.serve("/app/../secret.txt", dist)
    assert b"not for the browser" not in response.body


def test_without_a_build_the_page_says_how_to_make_one(tmp_path: Path):
    response = console.serve("/app/", tmp_path / "missing")
    assert response.status == 503 and b"make console" in response.body


def test_only_app_paths_belong_to_the_console():
    assert console.is_console("/app") and console.is_console("/app/customers")
    assert not console.is_console("/apple") and not console.is_console("/v1/app")

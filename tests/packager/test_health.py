"""The health gate: a run on a redesigned site is not published (exit 3) and the report names the change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperset.crawler.replica.server import ReplicaServer
from paperset.packager.health import Health, check
from tests.conftest import run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def run(server: ReplicaServer, root: Path, *extra: str):
    return run_paperset("run", "--base-url", server.base_url, "--range", "2025-02-03:2025-02-07", "--fetch", "page",
                        "--out", str(root), "--name", "papers", "--json", "-s", "AUTOTHROTTLE_ENABLED=False", *extra)


def test_a_layout_change_is_caught_before_publishing(tmp_path) -> None:
    with ReplicaServer() as server:
        first = run(server, tmp_path)
        assert first.returncode == 0, first.stderr[-2000:]
        published = (tmp_path / "papers" / "LATEST").read_text()
        server.layout_changed = True
        broken = run(server, tmp_path)
    assert broken.returncode == 3
    outcome = json.loads(broken.stdout.strip().splitlines()[-1])
    tripped = outcome["health"]["tripped"]
    assert tripped[0] == "no entries from 5 listings (page problems: {'no_entries': 5, 'no_hydration': 5})"
    assert tripped[1].startswith("5 of 5 pages had no readable hydration JSON")
    assert "the health gate tripped" in broken.stderr
    report = json.loads(Path(outcome["health_report"]).read_text())
    assert report["tripped"] == tripped and report["previous"]["entries"] > 0
    assert (tmp_path / "papers" / "LATEST").read_text() == published
    assert sorted(p.name for p in (tmp_path / "papers").iterdir() if p.name[0].isdigit()) == [published.strip()]


def test_the_gate_compares_with_the_previous_run() -> None:
    before = Health(listings=10, entries=300, dropped=3, fallback_pages=0, page_listings=10, page_problems={},
                    filled={"title": 1.0, "abstract": 0.98, "authors": 1.0, "published_at": 1.0,
                            "upvotes": 1.0, "num_comments": 1.0})
    assert check(before, before) == []
    thin = Health(10, 100, 3, 0, 10, {}, before.filled)
    assert check(thin, before) == ["entries per listing fell to 10.0 from 30.0"]
    no_abstracts = Health(10, 300, 3, 0, 10, {}, {**before.filled, "abstract": 0.02})
    assert check(no_abstracts, before) == ["field abstract is filled on 2% of rows, was 98%"]
    drops = Health(10, 200, 120, 0, 10, {}, before.filled)
    assert check(drops, before) == ["dropped entries rose to 38% from 1%"]

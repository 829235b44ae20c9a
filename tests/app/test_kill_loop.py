"""`paperset run` killed with SIGKILL at random points, in the crawl and in packaging, again and again:
never a half-visible version, and the dataset a run finally publishes equals an uninterrupted run's."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from paperset.crawler.replica.server import ReplicaServer
from paperset.packager.manifest import problems
from tests.conftest import ROOT, last_json, run_paperset, slow_paperset, snapshot_rows

pytestmark = pytest.mark.slow
KILLS = 24
# Packaging steps are widened so that a kill can land inside each of them (tests/slow_steps.py).
STEP_DELAY = 0.05


def run_args(server: ReplicaServer, root: Path) -> list[str]:
    days = server.index["days"]
    return ["run", "--base-url", server.base_url, "--range", f"{days[0]}:{days[14]}", "--week", "2025-W06",
            "--search", "WebSailor", "--fetch", "api", "--out", str(root), "--json",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_API_PAGE_SIZE=5",
            "-s", "PAPERSET_SPOOL_FLUSH_EVERY=7", "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0"]


def visible_versions(dataset: Path) -> list[str]:
    if not dataset.is_dir():
        return []
    return sorted(p.name for p in dataset.iterdir() if p.is_dir() and p.name[0].isdigit())


def assert_nothing_half_visible(dataset: Path) -> None:
    """Every version a reader can see verifies, and LATEST (when there) names one of them."""
    versions = visible_versions(dataset)
    for version in versions:
        assert problems(dataset / version) == [], version
    latest = dataset / "LATEST"
    if latest.exists():
        assert latest.read_text().strip() in versions


def in_packaging(dataset: Path) -> bool:
    """The observable start of packaging: the run's status moved from crawling to crawled."""
    for state in (dataset / ".runs").glob("*/run.json"):
        try:
            if json.loads(state.read_text()).get("status") == "crawled":
                return True
        except (json.JSONDecodeError, OSError):
            continue
    return False


def attempt(server: ReplicaServer, root: Path, rng: random.Random) -> bool:
    """One run, killed at a random point: after a few more requests reached the site, or a moment into
    packaging. True when it was killed, False when it finished first."""
    dataset = root / "hf-papers"
    start = len(server.timed)
    in_crawl = rng.random() < 0.6
    after = start + 1 + rng.randrange(12)
    process = subprocess.Popen([*slow_paperset(STEP_DELAY), *run_args(server, root)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        if in_crawl and len(server.timed) >= after:
            break
        if not in_crawl and in_packaging(dataset):
            time.sleep(rng.uniform(0, 0.4))  # somewhere inside the widened packaging steps
            break
        time.sleep(0.002)
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return killed


def test_random_kills_never_leave_half_a_version_and_the_result_equals_an_uninterrupted_run(tmp_path) -> None:
    rng = random.Random(11)
    with ReplicaServer() as server:
        server.delay_s = 0.01  # a crawl long enough to be killed in
        clean = run_paperset(*run_args(server, tmp_path / "clean"))
        assert clean.returncode == 0, clean.stderr[-3000:]
        expected = snapshot_rows(Path(last_json(clean.stdout)["path"]))
        kills, rounds = 0, 0
        while kills < KILLS:
            rounds += 1
            root = tmp_path / f"killed-{rounds}"
            finished = False
            while not finished:
                if attempt(server, root, rng):
                    kills += 1
                    assert_nothing_half_visible(root / "hf-papers")
                else:
                    finished = True
                if kills >= KILLS and not finished:
                    final = run_paperset(*run_args(server, root))
                    assert final.returncode == 0, final.stderr[-3000:]
                    finished = True
            dataset = root / "hf-papers"
            assert_nothing_half_visible(dataset)
            versions = visible_versions(dataset)
            assert len(versions) == 1, versions
            assert snapshot_rows(dataset / versions[0]) == expected
    assert kills >= KILLS

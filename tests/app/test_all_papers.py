"""`--all-papers`: the site's list of every indexed paper, paged by the cursor each answer announces in
its `Link` header (the replica's paperset/crawler/replica/cursor.py): every paper exactly once, papers never on
Daily Papers included; a run killed mid-paging resumes from the last cursor it reached; `--plan` counts
the calls first."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import ROOT, last_json, run_paperset

pytestmark = pytest.mark.slow  # runs of `paperset`, seconds each (docs/testing.md)
PAGE = 20
QUIET = ["--fetch", "api", "--json", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0",
         "-s", "PAPERSET_BUDGET_PAGES=0", "-s", f"PAPERSET_API_PAGE_SIZE={PAGE}", "-s", "PAPERSET_SPOOL_FLUSH_EVERY=5"]


def paged(server: ReplicaServer) -> list[str]:
    return [path for _, path, status in server.requests if path.startswith("/api/papers?")]


def published(root: Path) -> tuple[list[str], list[dict]]:
    dataset = root / "hf-papers"
    version = dataset / (dataset / "LATEST").read_text().strip()
    papers = pq.read_table(sorted((version / "papers").glob("part-*.parquet"))).to_pylist()
    observations = pq.read_table(sorted((version / "observations").glob("part-*.parquet"))).to_pylist()
    return [p["paper_id"] for p in papers], observations


def test_cursor_paging_gets_every_paper_exactly_once(tmp_path) -> None:
    with ReplicaServer() as server:
        every = [row["paper"]["id"] for row in server.every_paper]
        listed = {r["paper"]["id"] for rows in server.site.listings.values() for r in rows}
        result = run_paperset("run", "--base-url", server.base_url, "--all-papers", "--out", str(tmp_path), *QUIET)
        assert result.returncode == 0, result.stderr
        outcome = last_json(result.stdout)
        pages = -(-len(every) // PAGE)
        assert len(paged(server)) == len(set(paged(server))) == pages
        assert paged(server)[0] == f"/api/papers?limit={PAGE}"
    assert outcome["crawl"]["coverage"] == [{"kind": "all", "key": "papers", "status": "complete", "reason": None}]
    assert outcome["crawl"]["entries_found"] == len(every)
    ids, observations = published(tmp_path)
    assert sorted(ids) == sorted(every) and len(ids) == len(set(ids))
    assert sorted((o["paper_id"], o["listing_kind"], o["listing_key"], o["rank"]) for o in observations) == sorted(
        (pid, "all", "papers", None) for pid in every)
    # Papers never on a Daily Papers listing are in the dataset too.
    assert set(every) - listed and set(every) - listed <= set(ids)


def test_the_lists_answers_go_through_the_key_census(tmp_path) -> None:
    with ReplicaServer() as server:  # each page's first paper (and each paper's first author) carries a new key
        server.add_fault(r"^/api/papers\?", "replace", old=b'[{"', new=b'[{"license": "cc", "')
        result = run_paperset("run", "--base-url", server.base_url, "--all-papers", "--out", str(tmp_path), *QUIET)
        assert result.returncode == 0, result.stderr
        pages = len(paged(server))
    assert pages > 1
    unmapped = last_json(result.stdout)["crawl"]["unmapped_keys"]
    assert set(unmapped) == {"api/papers/paper.license", "api/papers/paper.authors[].license"}
    assert unmapped["api/papers/paper.license"] == pages


def test_plan_counts_the_pages_of_every_paper(tmp_path) -> None:
    result = run_paperset("run", "--all-papers", "--out", str(tmp_path), "--plan", "--json",
                          "-s", "PAPERSET_ALL_PAPERS_EXPECTED=150000", "-s", "PAPERSET_API_PAGE_SIZE=100")
    assert result.returncode == 0, result.stderr
    plan = last_json(result.stdout)
    # 1,500 pages of 100 at 450 calls per 300 s: 4 windows wait, and the run needs --yes.
    assert plan["counts"] == {"api": 1500, "page": 0} and plan["all_papers"] == 1500
    assert [c["api"] for c in plan["chunks"]] == [450, 450, 450, 150]
    assert plan["least_duration_s"] == 900.0
    assert "all papers      about 1500 API calls" in result.stdout
    assert not (tmp_path / "hf-papers").exists()


def test_a_run_killed_mid_paging_resumes_from_the_checkpointed_cursor(tmp_path) -> None:
    with ReplicaServer() as server:
        every = [row["paper"]["id"] for row in server.every_paper]
        pages = -(-len(every) // PAGE)
        server.delay_s = 0.3
        args = [str(ROOT / ".venv/bin/paperset"), "run", "--base-url", server.base_url, "--all-papers",
                "--out", str(tmp_path), *QUIET]
        process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(paged(server)) < pages // 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        first = paged(server)
        assert pages // 2 <= len(first) < pages
        server.delay_s = 0.0
        result = run_paperset("run", "--base-url", server.base_url, "--all-papers", "--out", str(tmp_path), *QUIET)
        assert result.returncode == 0, result.stderr
        second = paged(server)[len(first):]
    outcome = last_json(result.stdout)
    assert outcome["crawl"]["resumed"] is True
    # The resumed run starts at a cursor the killed one reached (one it asked, or the next one it was
    # asking for when killed), never at the first page, and asks again at most the two pages whose
    # ledger line had not reached the disk.
    assert f"/api/papers?limit={PAGE}" not in second and "cursor=" in second[0]
    assert len(set(first + second)) == pages  # together every page
    assert len(second) <= pages - len(first) + 2
    ids, _ = published(tmp_path)
    assert sorted(ids) == sorted(every)

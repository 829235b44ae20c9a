"""Crawls with `--links` against the replica (issue 24): the links' own call cap leaves papers unknown and
the next runs ask only those; a 429 with RateLimit headers on a link page is waited out; with `--details`
one API answer serves both; `paperset crawl --out F` writes F.links.jsonl."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from paperset.crawler.replica.links import KINDS
from paperset.crawler.replica.server import ReplicaServer
from paperset.packager.links_schema import REPO_TYPES
from tests.conftest import last_json, read_jsonl, run_paperset

pytestmark = pytest.mark.slow
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=1", "-s", "PAPERSET_BUDGET_API=0",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
DAY = "2025-02-03"


def _papers(server: ReplicaServer) -> list[str]:
    return sorted(r["paper"]["id"] for r in server.site.listings["day", DAY])


def test_the_call_cap_leaves_papers_unknown_and_the_next_runs_ask_only_them(tmp_path: Path) -> None:
    with ReplicaServer() as server:
        papers = _papers(server)
        unknown: set[str] = set(papers)
        for _ in range(4):
            asked = len(server.requests)
            outcome = last_json(run_paperset("run", "--base-url", server.base_url, "--out", str(tmp_path), "--json",
                                             "--links", "--day", DAY, *FAST, "-s", "PAPERSET_LINKS_MAX_CALLS=9").stdout)
            papers_asked = {p.split("arxiv:")[-1].split("papers/")[-1].split("&")[0]
                            for _, p, _ in server.requests[asked:] if "arxiv:" in p or "papers/" in p}
            assert papers_asked <= unknown, "a run asked again a paper whose links were known"
            missing = {r["key"] for r in outcome["crawl"]["coverage"] if r["status"] == "incomplete"}
            assert outcome["crawl"]["links"].get("failed/links_budget", 0) == len(missing)
            if outcome["exit_code"] == 0:
                break
            assert outcome["exit_code"] == 5 and missing and all(r["reason"] == "links: links_budget" for r in
                                                                 outcome["crawl"]["coverage"] if r["key"] in missing)
            unknown = missing
        assert outcome["exit_code"] == 0, outcome
        db = duckdb.connect()
        got = db.execute(f"SELECT paper_id, repo_type, repo_id FROM read_parquet('{outcome['path']}/links/*.parquet') "
                         "WHERE removed_at IS NULL ORDER BY ALL").fetchall()
        assert got == sorted((p, REPO_TYPES[k], r["id"]) for p in papers for k in KINDS
                             for r in server.links.repos(p, k, 0))


def test_a_429_with_ratelimit_on_a_link_page_is_waited_out(tmp_path: Path) -> None:
    with ReplicaServer() as server:
        server.retry_after = 1
        server.throttle_at = {8}
        result = run_paperset("crawl", "--base-url", server.base_url, "--day", DAY, "--links", "--out",
                              str(tmp_path / "e.jsonl"), *FAST)
        assert result.returncode == 0, result.stderr[-2000:]
        throttled = {p for _, p, s in server.requests if s == 429}
        assert throttled and throttled <= {p for _, p, s in server.requests if s == 200}
        records = read_jsonl(tmp_path / "e.links.jsonl")
        heavy = next(iter(server.links.heavy))
        spaces = {i["id"] for r in records if r["paper_id"] == heavy and r["part"] == "spaces" for i in r["items"]}
        assert spaces == {r["id"] for r in server.links.repos(heavy, "spaces", 0)}
        assert not [r for r in records if r["part"] == "failed"]
        ended = {(r["paper_id"], r["part"]) for r in records if r.get("last")}
        assert {(p, "collections") for p in _papers(server)} <= ended


def test_details_and_links_share_one_api_answer(tmp_path: Path) -> None:
    with ReplicaServer() as server:
        result = run_paperset("crawl", "--base-url", server.base_url, "--day", DAY, "--links", "--details",
                              "--out", str(tmp_path / "e.jsonl"), "--json", *FAST)
        assert result.returncode == 0, result.stderr[-2000:]
        # The paper answer's link keys are kept (in the links file), so the census does not call them not kept.
        assert not [k for k in last_json(result.stdout)["unmapped_keys"] if k.startswith("api/papers/ID/")]
        paper_calls = [p for _, p, _ in server.requests if p.startswith("/api/papers/")]
        assert sorted(paper_calls) == [f"/api/papers/{p}" for p in _papers(server)]
        entries = read_jsonl(tmp_path / "e.jsonl")
        assert sorted(e["paper_id"] for e in entries if e["fetch_path"] == "api" and e.get("listing_kind") == "paper") \
            == _papers(server)
        records = read_jsonl(tmp_path / "e.links.jsonl")
        totals = {r["paper_id"]: r["totals"] for r in records if r["part"] == "paper"}
        assert totals == {p: {k: len(server.links.repos(p, k, 0)) for k in KINDS} for p in _papers(server)}


def test_a_published_unknown_is_asked_first_by_the_next_night_of_other_listings(tmp_path: Path) -> None:
    with ReplicaServer() as server:
        heavy = next(iter(server.links.heavy))
        fault = server.add_fault(rf"^/api/papers/{heavy}$")
        partial = last_json(run_paperset("run", "--base-url", server.base_url, "--out", str(tmp_path), "--json",
                                         "--links", "--day", DAY, "--allow-partial", *FAST).stdout)
        assert partial["outcome"] == "published" and partial["crawl"]["links"]["failed/http_500"] == 1
        server.faults.remove(fault)
        asked = len(server.requests)
        night = last_json(run_paperset("run", "--base-url", server.base_url, "--out", str(tmp_path), "--json",
                                       "--links", "--day", "2025-02-05", *FAST).stdout)
        assert night["exit_code"] == 0 and night["crawl"]["links"]["retried"] == 1
        # Before the night's own lookups (made once its listing answered); not necessarily before the
        # listing's request, which goes out beside it (the two race to the server under load).
        first_lookup = next(p for _, p, _ in server.requests[asked:] if p.startswith("/api/papers/"))
        assert first_lookup == f"/api/papers/{heavy}"
        db = duckdb.connect()
        status = db.execute(f"SELECT status FROM read_parquet('{night['path']}/link_status/*.parquet') "
                            "WHERE paper_id = ?", [heavy]).fetchall()
        assert status == [("known",)]
        spaces = db.execute(f"SELECT count(*) FROM read_parquet('{night['path']}/links/*.parquet') "
                            "WHERE paper_id = ? AND repo_type = 'space'", [heavy]).fetchone()
        assert spaces == (len(server.links.repos(heavy, "spaces", 0)),)


def test_links_in_a_distributed_run_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = run_paperset("run", "--day", DAY, "--links", "--redis", "redis://127.0.0.1:1/0", "--out", str(tmp_path))
    assert result.returncode == 2 and "--links is not available in a distributed run" in result.stderr
    assert not (tmp_path / "hf-papers").exists() and list(tmp_path.iterdir()) == []
    # Refused before the plan is printed or the operator asked to confirm it.
    plan = run_paperset("run", "--day", DAY, "--links", "--redis", "redis://127.0.0.1:1/0", "--plan",
                        "--out", str(tmp_path))
    assert (plan.returncode, plan.stdout) == (2, "")


def test_a_run_killed_mid_lookups_resumes_to_every_link(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import time

    from tests.conftest import ROOT

    with ReplicaServer() as server:
        heavy = next(iter(server.links.heavy))
        server.add_fault(rf"^/api/spaces\?filter=arxiv(:|%3A){heavy}.*cursor=", "stall", seconds=5)
        args = [str(ROOT / ".venv/bin/paperset"), "run", "--base-url", server.base_url, "--out", str(tmp_path),
                "--json", "--links", "--day", DAY, *FAST, "-s", "PAPERSET_SPOOL_FLUSH_EVERY=1"]
        process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not any("cursor=" in p for _, p, _ in server.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the other lookups end; the stalled page holds the run
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        server.faults.clear()
        asked = len(server.requests)
        outcome = last_json(run_paperset(*args[1:]).stdout)
        assert outcome["exit_code"] == 0 and outcome["crawl"]["resumed"] is True, outcome
        again = [p for _, p, _ in server.requests[asked:] if p.startswith("/api/")]
        assert again and all(heavy in p for p in again)
        db = duckdb.connect()
        got = db.execute(f"SELECT paper_id, repo_type, repo_id FROM read_parquet('{outcome['path']}/links/*.parquet') "
                         "ORDER BY ALL").fetchall()
        assert got == sorted((p, REPO_TYPES[k], r["id"]) for p in _papers(server) for k in KINDS
                             for r in server.links.repos(p, k, 0))

"""A `paperset run` killed with SIGKILL mid-crawl and started again gives the snapshot an uninterrupted
run gives, and fetches less than a fresh run; the ledger and spool it resumes from stay consistent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import ROOT, last_json, read_jsonl, run_paperset, snapshot_rows

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def run_args(server: ReplicaServer, root: Path) -> list[str]:
    days = server.index["days"]
    return ["run", "--base-url", server.base_url, "--range", f"{days[0]}:{days[-1]}", "--week", "2025-W06",
            "--search", "WebSailor", "--fetch", "api", "--out", str(root), "--json",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_API_PAGE_SIZE=5", "-s", "PAPERSET_SPOOL_FLUSH_EVERY=7"]


def test_killed_run_resumes_to_the_same_snapshot_with_fewer_fetches(tmp_path) -> None:
    with ReplicaServer() as server:
        fresh = run_paperset(*run_args(server, tmp_path / "fresh"))
        assert fresh.returncode == 0, fresh.stderr[-3000:]
        fresh_requests = len(server.timed)
        server.delay_s = 0.03  # slow enough to be killed in the middle
        server.timed.clear()
        args = run_args(server, tmp_path / "killed")
        process = subprocess.Popen([str(ROOT / ".venv/bin/paperset"), *args], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while len(server.timed) < fresh_requests // 2 and process.poll() is None:
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        before_kill = len(server.timed)
        server.delay_s = 0.0
        resumed = run_paperset(*args)
        resumed_requests = len(server.timed) - before_kill
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    one, two = last_json(fresh.stdout), last_json(resumed.stdout)
    assert two["crawl"]["resumed"] is True and one["crawl"]["resumed"] is False
    assert fresh_requests // 2 <= before_kill < fresh_requests
    # Requests whose entries were on disk are not made again; the few in flight at the kill are.
    assert resumed_requests < fresh_requests - fresh_requests // 3
    assert two["crawl"]["pages_fetched"] < one["crawl"]["pages_fetched"]
    assert snapshot_rows(Path(two["path"])) == snapshot_rows(Path(one["path"]))
    assert (two["papers"], two["observations"]) == (one["papers"], one["observations"])
    run_dir = Path(two["crawl"]["run"])
    meta = json.loads((run_dir / "spool" / "meta.json").read_text())
    assert len(meta["resumed_at"]) == 1
    assert json.loads((run_dir / "run.json").read_text())["status"] == "published"
    assert len(list((tmp_path / "killed" / "hf-papers" / ".runs").iterdir())) == 1
    # Every ledger line is whole (the cut one was cut off before the resumed crawl wrote on).
    assert all("fp" in line for line in read_jsonl(run_dir / "spool" / "ledger.jsonl"))
    assert (run_dir / "crawl.log").read_text().count("resuming:") == 1


def test_a_new_plan_or_no_resume_starts_afresh(tmp_path, replica) -> None:
    base = ["run", "--base-url", replica.base_url, "--day", "2025-02-03", "--out", str(tmp_path), "--json",
            "-s", "AUTOTHROTTLE_ENABLED=False"]
    first = run_paperset(*base)
    assert first.returncode == 0, first.stderr[-2000:]
    run_dir = Path(last_json(first.stdout)["crawl"]["run"])
    # Pretend it was killed while crawling: the next run of the same plan resumes it...
    state = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**state, "status": "crawling"}))
    again = last_json(run_paperset(*base).stdout)
    assert again["crawl"]["resumed"] is True and again["crawl"]["run"] == str(run_dir)
    assert again["crawl"]["pages_fetched"] == 0 and again["changed"] is False
    # ...unless told not to, or when the plan differs.
    (run_dir / "run.json").write_text(json.dumps({**state, "status": "crawling"}))
    fresh = last_json(run_paperset(*base, "--no-resume").stdout)
    assert fresh["crawl"]["resumed"] is False and fresh["crawl"]["run"] != str(run_dir)
    fresh_dir = Path(fresh["crawl"]["run"])
    (fresh_dir / "run.json").write_text(json.dumps({**json.loads((fresh_dir / "run.json").read_text()),
                                                    "status": "crawling"}))
    other = last_json(run_paperset(*base[:-2], "-s", "AUTOTHROTTLE_ENABLED=0").stdout)
    assert other["crawl"]["resumed"] is False


def test_a_site_asking_too_long_a_wait_stops_the_run_and_the_next_run_resumes(tmp_path) -> None:
    with ReplicaServer() as server:
        days = server.index["days"][:10]
        args = ["run", "--base-url", server.base_url, "--range", f"{days[0]}:{days[-1]}", "--fetch", "api",
                "--out", str(tmp_path), "--json", "-s", "AUTOTHROTTLE_ENABLED=False",
                "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "PAPERSET_MAX_WAIT_S=1"]
        server.throttle_at, server.retry_after = {6}, 2
        stopped = run_paperset(*args)
        published_first = list((tmp_path / "hf-papers").glob("2*"))
        first_log = list(server.timed)
        server.throttle_at, server.limited_until = set(), 0.0  # the site lifts its limit
        resumed = run_paperset(*args)
        second_log = server.timed[len(first_log):]
    assert stopped.returncode == 5  # incomplete: the next run resumes
    assert "the crawl did not finish (rate_limited): nothing published" in stopped.stderr
    first = last_json(stopped.stdout)
    assert first["outcome"] == "incomplete" and first["version"] is None
    assert first["crawl"]["finish_reason"] == "rate_limited"
    assert published_first == []
    log = Path(first["crawl"]["log"]).read_text()
    assert "asks to wait 2 s (more than PAPERSET_MAX_WAIT_S): stopping the crawl; the next run resumes" in log
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    second = last_json(resumed.stdout)
    assert second["crawl"]["resumed"] is True and second["crawl"]["run"] == first["crawl"]["run"]
    want = sum(len(server.site.items("day", d) or []) for d in days)
    assert second["papers"] == want
    # What the first run got is not asked again; what it did not get is.
    answered = {path for _, path, status in first_log if status == 200 and path.startswith("/api/")}
    again = {path for _, path, _ in second_log if path.startswith("/api/")}
    assert len(answered) == 5 and not answered & again
    assert len(answered | again) == 12  # every calendar day of the range, asked once it could be

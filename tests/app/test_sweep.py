"""The refresh sweep (paperset/app/sweep.py) over many nights of a replica whose clock moves the counters:
every paper is revisited within the period the plan states, its upvotes then equal the site's, the
swept counters land as observations, and a paper whose lookup failed makes the night exit 5 and is
asked again first the next night."""

from __future__ import annotations

import json
import math
import re
from itertools import pairwise
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from paperset.app.sweep import SWEEP_FILE
from paperset.crawler.replica.clock import truth
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import last_json, run_paperset

pytestmark = pytest.mark.slow  # runs of `paperset`, seconds each (docs/testing.md)
SIZE = 8
QUIET = ["--fetch", "api", "--json", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0",
         "-s", "PAPERSET_BUDGET_PAGES=0", "-s", f"PAPERSET_SWEEP_SIZE={SIZE}"]


def latest_papers(dataset: Path) -> dict[str, dict]:
    version = dataset / (dataset / "LATEST").read_text().strip()
    rows = pq.read_table(sorted((version / "papers").glob("part-*.parquet"))).to_pylist()
    return {r["paper_id"]: r for r in rows}


def latest_observations(dataset: Path) -> list[dict]:
    version = dataset / (dataset / "LATEST").read_text().strip()
    return pq.read_table(sorted((version / "observations").glob("part-*.parquet"))).to_pylist()


def first_nights(server: ReplicaServer, root: Path) -> list[str]:
    """The replica's days, after a first run over its first four of them into `root`."""
    days = server.index["days"]
    first = run_paperset("run", "--base-url", server.base_url, "--range", f"{days[0]}:{days[3]}", "--out", str(root),
                         *QUIET)
    assert first.returncode == 0, first.stderr
    return days


def night(server: ReplicaServer, root: Path, day: str, n: int, *, said: list[str] | None = None,
          extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    server.night = n
    result = run_paperset("run", "--base-url", server.base_url, "--day", day, "--sweep", "--no-resume",
                          "--out", str(root), *QUIET, *extra)
    if said is not None:
        said.append(result.stderr)
    return result.returncode, last_json(result.stdout)


def swept_tonight(dataset: Path, before: dict[str, str]) -> set[str]:
    after = json.loads((dataset / SWEEP_FILE).read_text())
    return {pid for pid, at in after.items() if before.get(pid) != at}


def test_every_paper_is_revisited_within_the_stated_period_with_the_sites_counters(tmp_path) -> None:
    dataset = tmp_path / "hf-papers"
    with ReplicaServer() as server:
        days = first_nights(server, tmp_path)
        papers = latest_papers(dataset)
        window = {i["paper"]["id"] for i in server.site.items("day", days[3])}
        period = math.ceil(len(papers) / SIZE)
        plan = run_paperset("run", "--base-url", server.base_url, "--day", days[3], "--sweep", "--plan",
                            "--out", str(tmp_path), *QUIET)
        assert (f"sweep           {SIZE} API calls: every paper within {period} nights at {SIZE} calls a night "
                f"({len(papers)} papers in the parent)") in plan.stdout
        assert last_json(plan.stdout)["counts"] == {"api": 1 + SIZE, "page": 0}
        # A scheduled night (--recent) sweeps as well: its window's 7 days and the sweep's calls.
        recent = run_paperset("run", "--base-url", server.base_url, "--recent", "--plan", "--out", str(tmp_path),
                              *QUIET)
        assert last_json(recent.stdout)["counts"] == {"api": 7 + SIZE, "page": 0}
        assert f"every paper within {period} nights at {SIZE} calls a night" in recent.stdout
        seen = {pid: [0] for pid in papers}
        for n in range(1, 2 * period + 1):
            before = json.loads((dataset / SWEEP_FILE).read_text()) if (dataset / SWEEP_FILE).exists() else {}
            code, outcome = night(server, tmp_path, days[3], n)
            assert code == 0, outcome
            assert outcome["crawl"]["sweep"] == {"asked": SIZE}
            swept = swept_tonight(dataset, before)
            assert len(swept) == SIZE and not swept & window
            now = latest_papers(dataset)
            for pid in swept | window:
                seen[pid].append(n)
                row = server.site.papers[pid]
                assert now[pid]["upvotes"] == truth(row["paper"], row["numComments"], n)["upvotes"], (pid, n)
        gaps = {pid: max(b - a for a, b in pairwise(nights)) for pid, nights in seen.items()}
        assert max(gaps.values()) <= period and all(len(nights) >= 3 for nights in seen.values())
        # Swept counters are observations of the paper's own listing: one a sweep that found them moved.
        swept_rows = [r for r in latest_observations(dataset) if r["listing_kind"] == "paper"]
        for pid in set(papers) - window:
            mine = sorted(r["upvotes"] for r in swept_rows if r["paper_id"] == pid)
            row = server.site.papers[pid]
            assert mine == sorted({truth(row["paper"], row["numComments"], n)["upvotes"] for n in seen[pid][1:]})


def test_a_failed_sweep_lookup_exits_5_and_is_asked_first_the_next_night(tmp_path) -> None:
    dataset = tmp_path / "hf-papers"
    with ReplicaServer() as server:
        days = first_nights(server, tmp_path)
        server.night = 1
        plan = run_paperset("run", "--base-url", server.base_url, "--day", days[3], "--sweep", "--plan",
                            "--out", str(tmp_path), *QUIET)
        assert plan.returncode == 0
        window = {i["paper"]["id"] for i in server.site.items("day", days[3])}
        order = sorted((pid for pid in latest_papers(dataset) if pid not in window),
                       key=lambda pid: (latest_papers(dataset)[pid]["last_seen_at"], pid))
        target = order[SIZE - 1]
        server.add_fault(f"^/api/papers/{target}$", status=500)
        said: list[str] = []
        code, outcome = night(server, tmp_path, days[3], 1, said=said)
        assert code == 5 and f"sweep           asked {SIZE}, failed 1" in said[0]
        assert outcome["outcome"] == "incomplete"
        assert outcome["crawl"]["sweep"] == {"asked": SIZE, "failed": 1}
        assert [r["key"] for r in outcome["crawl"]["coverage"] if r["status"] == "incomplete"] == [target]
        assert not (dataset / SWEEP_FILE).exists()
        server.faults.clear()
        code, outcome = night(server, tmp_path, days[3], 2)
        assert code == 0, outcome
        swept = swept_tonight(dataset, {})
        assert target in swept and len(swept) == SIZE
        row = server.site.papers[target]
        assert latest_papers(dataset)[target]["upvotes"] == truth(row["paper"], row["numComments"], 2)["upvotes"]


@pytest.mark.parametrize("links", [False, True])
def test_a_429_on_a_swept_paper_is_waited_out_and_its_counters_land(tmp_path, links: bool) -> None:
    dataset = tmp_path / "hf-papers"
    with ReplicaServer() as server:
        days = first_nights(server, tmp_path)
        window = {i["paper"]["id"] for i in server.site.items("day", days[3])}
        papers = latest_papers(dataset)
        target = min((pid for pid in papers if pid not in window), key=lambda pid: (papers[pid]["last_seen_at"], pid))
        server.add_fault(f"^/api/papers/{target}$", status=429, times=1, headers={"Retry-After": "1"})
        server.timed.clear()
        code, outcome = night(server, tmp_path, days[3], 1, extra=("--links",) if links else ())
        assert code == 0, outcome
        assert outcome["outcome"] == "published" and outcome["crawl"]["sweep"] == {"asked": SIZE}
        assert "failed" not in outcome["crawl"].get("links", {})
        assert [status for _, path, status in server.requests if path == f"/api/papers/{target}"] == [429, 200]
        # Asked again through the gate the Retry-After closed: the crawl's own record of the wait.
        log = (Path(outcome["crawl"]["run"]) / "crawl.log").read_text()
        url = re.escape(f"{server.base_url}/api/papers/{target}")
        assert re.search(rf"answered 429: waiting \d+\.\d s before {url}\n", log)
        assert "'paperset/throttle/429': 1," in log and "'paperset/throttle/retry/count': 1," in log
        assert target in swept_tonight(dataset, {})
        row = server.site.papers[target]
        assert latest_papers(dataset)[target]["upvotes"] == truth(row["paper"], row["numComments"], 1)["upvotes"]
        if links:  # the same answer gave its links: known, with the replica's totals
            version = dataset / (dataset / "LATEST").read_text().strip()
            totals = pq.read_table(version / "link_totals").to_pylist()
            assert [(r["num_models"], r["num_datasets"], r["num_spaces"]) for r in totals if r["paper_id"] == target] \
                == [tuple(len(server.links.repos(target, kind, 1)) for kind in ("models", "datasets", "spaces"))]


def test_the_sweep_leaves_out_the_papers_of_the_days_recent_adds(tmp_path, corpus_path) -> None:
    """Papers listed on tonight's window (the days `--recent` adds, today's among them) are read by the
    night's listings: the sweep asks none of them again."""
    from datetime import UTC, datetime

    from tests.conftest import corpus_spool

    today = datetime.now(UTC).date().isoformat()
    spool = corpus_spool(tmp_path / "spool", corpus_path, 6)
    entries = next((spool / "entries").glob("part-*.jsonl"))
    rows = [json.loads(line) for line in entries.read_text().splitlines()]
    for row in rows[:4]:  # four papers on today's day listing, two on an old day
        row.update(listing_key=today, crawled_at=f"{today}T06:00:00+00:00")
    entries.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = str(tmp_path / "out")
    assert run_paperset("package", "--spool", str(spool), "--out", out, "--name", "ds").returncode == 0
    plan = run_paperset("run", "--recent", "--sweep", "--plan", "--json", "--out", out, "--name", "ds",
                        "-s", "PAPERSET_SWEEP_SIZE=10")
    assert plan.returncode == 0, plan.stderr
    assert last_json(plan.stdout)["sweep"] == 2

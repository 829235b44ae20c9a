"""`paperset run --links` night after night against the replica with its moving clock (issue 24): each query
of docs/links.md, run in DuckDB on the published versions, equals the replica's truth; a night when nothing
moved writes no link row (the paper cited by 300 Spaces included); a failed lookup is unknown, never 0
links, exits 5, and the next run asks it first."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from paperset.crawler.replica.links import KINDS
from paperset.crawler.replica.server import ReplicaServer
from paperset.packager.links_schema import LINK_TABLES, REPO_TYPES
from tests.conftest import ROOT, last_json, run_paperset

pytestmark = pytest.mark.slow
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=1", "-s", "PAPERSET_BUDGET_API=0",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
DAYS = ("--day", "2025-02-03", "--day", "2025-02-05")
QUERY = re.compile(r"```sql\n-- query: (\w+)\n(.*?)```", re.S)


def queries() -> dict[str, str]:
    return dict(QUERY.findall((ROOT / "docs" / "links.md").read_text(encoding="utf-8")))


def run(server: ReplicaServer, out: Path, *extra: str) -> dict:
    result = run_paperset("run", "--base-url", server.base_url, "--out", str(out), "--name", "ds", "--json",
                          "--links", *DAYS, *FAST, *extra)
    return last_json(result.stdout)


def connect(version: Path) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    for table in LINK_TABLES:
        db.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{version / table}/*.parquet')")
    return db


def created(version: Path) -> datetime:
    return datetime.fromisoformat(json.loads((version / "manifest.json").read_text())["created_at"])


def truth_repos(server: ReplicaServer, paper: str, night: int) -> list[tuple[str, str]]:
    return sorted((REPO_TYPES[k], r["id"]) for k in KINDS for r in server.links.repos(paper, k, night))


def check_night(server: ReplicaServer, version: Path, papers: list[str], nights: dict[int, datetime]) -> None:
    """Every query of docs/links.md on this version against the replica's truth of every night so far."""
    q, db = queries(), connect(version)
    for night, at in nights.items():
        for paper in papers:
            got = db.execute(q["repos_as_of"], {"paper": paper, "night": at}).fetchall()
            assert got == truth_repos(server, paper, night), (paper, night)
    for paper in papers:
        rows = db.execute(q["totals_over_time"], {"paper": paper}).fetchall()
        want, before = [], None
        for night, at in nights.items():
            totals = tuple(len(server.links.repos(paper, k, night)) for k in KINDS)
            if totals != before:
                want.append((at, *totals))
            before = totals
        assert [(r[0].replace(tzinfo=None), *r[1:]) for r in rows] == [(w[0].replace(tzinfo=None), *w[1:])
                                                                       for w in want], paper
        got = db.execute(q["collections_of_paper"], {"paper": paper}).fetchall()
        assert [g[0] for g in got] == [c["slug"] for c in server.links.collections(paper, max(nights))]
    last = max(nights)
    cited: dict[tuple[str, str], list[str]] = {}
    for paper in papers:
        for repo in truth_repos(server, paper, last):
            cited.setdefault(repo, []).append(paper)
    for (repo_type, repo_id), want_papers in sorted(cited.items())[:40]:
        got = db.execute(q["papers_of_repo"], {"repo_type": repo_type, "repo_id": repo_id}).fetchall()
        assert [g[0] for g in got] == sorted(want_papers)
    month = nights[last].replace(day=1, hour=0, minute=0, second=0)
    models = {p: len({r["id"] for n in nights for r in server.links.repos(p, "models", n)}) for p in papers}
    want_top = sorted(((p, c) for p, c in models.items() if c), key=lambda pc: (-pc[1], pc[0]))[:10]
    assert db.execute(q["most_cited_by_models"], {"month": month}).fetchall() == want_top


def link_rows(version: Path) -> dict[str, int]:
    return json.loads((version / "manifest.json").read_text())["rows"]


def test_nights_answer_every_query_and_still_nights_write_nothing(tmp_path: Path) -> None:
    with ReplicaServer() as server:
        heavy = next(iter(server.links.heavy))
        papers = sorted({r["paper"]["id"] for d in ("2025-02-03", "2025-02-05")
                         for r in server.site.listings["day", d]})
        assert heavy in papers and len(truth_repos(server, heavy, 0)) > 300
        nights: dict[int, datetime] = {}
        rows_before: dict[str, int] = {}
        prev = 0
        for night in (0, 0, 6, 6, 25):
            server.night = night
            outcome = run(server, tmp_path)
            assert outcome["exit_code"] == 0, outcome
            if night in nights:  # nothing moved: no version, no row
                assert outcome["outcome"] == "unchanged" and outcome["crawl"]["links"]["calls"] > 300 // 100
                continue
            version = Path(outcome["path"])
            rows = link_rows(version)
            nights[night] = created(version)
            check_night(server, version, papers, nights)
            if rows_before:
                moved = sum(len(set(truth_repos(server, p, night)) ^ set(truth_repos(server, p, prev)))
                            for p in papers)
                assert rows["links"] - rows_before["links"] <= moved < 300
            prev, rows_before = night, rows
        db = connect(version)
        spaces = db.execute("SELECT count(*) FROM links WHERE paper_id = ? AND repo_type = 'space'",
                            [heavy]).fetchone()
        assert spaces is not None and spaces[0] == len(set().union(*(
            {r["id"] for r in server.links.repos(heavy, "spaces", n)} for n in nights)))
        card = (version / "README.md").read_text(encoding="utf-8")
        assert "## Adoption" in card and f"{heavy} (" in card and (version / "links_totals.png").stat().st_size


def test_a_failed_lookup_is_unknown_exits_5_and_is_asked_first_next(tmp_path: Path) -> None:
    with ReplicaServer() as server:
        heavy = next(iter(server.links.heavy))
        fault = server.add_fault(rf"^/api/spaces\?filter=arxiv:{re.escape(heavy)}")
        outcome = run(server, tmp_path)
        assert outcome["exit_code"] == 5 and outcome["crawl"]["links"]["failed/http_500"] == 1
        assert {(r["kind"], r["key"]) for r in outcome["crawl"]["coverage"] if r["status"] == "incomplete"} == {
            ("links", heavy)}
        partial = run(server, tmp_path / "partial", "--allow-partial")
        db = connect(Path(partial["path"]))
        assert db.execute("SELECT status, reason FROM link_status WHERE paper_id = ?", [heavy]).fetchall() == [
            ("unknown", "http_500")]
        assert db.execute("SELECT count(*) FROM link_totals WHERE paper_id = ?", [heavy]).fetchone() == (0,)
        server.faults.remove(fault)
        asked = len(server.requests)
        retried = run(server, tmp_path)
        again = [path for _, path, _ in server.requests[asked:] if path != "/robots.txt"]
        assert retried["exit_code"] == 0 and again[0].startswith(f"/api/spaces?filter=arxiv:{heavy}")
        assert all(heavy in path for path in again)
        db = connect(Path(retried["path"]))
        assert db.execute("SELECT status FROM link_status WHERE paper_id = ?", [heavy]).fetchall() == [("known",)]
        got = db.execute(queries()["repos_as_of"], {"paper": heavy, "night": created(Path(retried["path"]))})
        assert got.fetchall() == truth_repos(server, heavy, 0)

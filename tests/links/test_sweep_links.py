"""The refresh sweep with `--links` (issue 24: "their counters and, with links on, their links"): a swept
old paper's links are looked up again, whichever path its counters come by, so its totals in `link_totals`
follow the replica's clock night after night, though no listing of the night holds it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from paperset.app.sweep import SWEEP_FILE
from paperset.crawler.replica.links import KINDS
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import last_json, run_paperset

pytestmark = pytest.mark.slow
QUIET = ("--fetch", "api", "--json", "--links", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0",
         "-s", "PAPERSET_BUDGET_PAGES=0", "-s", "PAPERSET_SWEEP_SIZE=40", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")


def totals_over_time(dataset: Path) -> dict[str, list[tuple[int, int, int]]]:
    version = dataset / (dataset / "LATEST").read_text().strip()
    rows = duckdb.connect().execute(
        f"SELECT paper_id, num_models, num_datasets, num_spaces FROM read_parquet('{version}/link_totals/*.parquet') "
        "ORDER BY paper_id, observed_at").fetchall()
    out: dict[str, list[tuple[int, int, int]]] = {}
    for paper, *totals in rows:
        out.setdefault(paper, []).append(tuple(totals))
    return out


@pytest.mark.parametrize("details", ["api", "page"])
def test_a_swept_papers_link_totals_follow_the_replicas_clock(tmp_path, details: str) -> None:
    dataset, extra = tmp_path / "hf-papers", ("-s", f"PAPERSET_DETAILS_FROM_PAGE={details == 'page'}")
    with ReplicaServer() as server:
        days = server.index["days"]
        first = run_paperset("run", "--base-url", server.base_url, "--range", f"{days[0]}:{days[3]}",
                             "--out", str(tmp_path), *QUIET, *extra)
        assert first.returncode == 0, first.stderr
        window = {i["paper"]["id"] for i in server.site.items("day", days[3])}
        old = sorted({i["paper"]["id"] for d in days[:3] for i in server.site.items("day", d)} - window)
        for night in (10, 20):  # two nights of the clock, the sweep taking every old paper each
            server.night = night
            result = run_paperset("run", "--base-url", server.base_url, "--day", days[3], "--sweep", "--no-resume",
                                  "--out", str(tmp_path), *QUIET, *extra)
            assert result.returncode == 0, result.stderr
            outcome = last_json(result.stdout)
            assert outcome["crawl"]["sweep"] == {"asked": len(old)}
            assert sorted(json.loads((dataset / SWEEP_FILE).read_text())) == old
        got = totals_over_time(dataset)
    moved = 0
    for paper in old:
        want: list[tuple[int, ...]] = []
        for night in (0, 10, 20):
            totals = tuple(len(server.links.repos(paper, kind, night)) for kind in KINDS)
            if not want or want[-1] != totals:
                want.append(totals)
        assert got[paper] == want, paper
        moved += len(want) > 1
    assert moved == 9  # the old papers whose totals the clock moved by night 20

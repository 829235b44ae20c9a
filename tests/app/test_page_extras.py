"""What only a paper's page shows (paperset/crawler/site/paper_extras.py): its upvoters (a preview) and its Daily
Papers rank, kept in `papers` when the details path reads the page (PAPERSET_DETAILS_FROM_PAGE), null
from the API; a parent version written before those columns existed is read with them null."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paperset.crawler.replica.render import UPVOTERS_SHOWN
from paperset.crawler.replica.server import ReplicaServer
from paperset.packager.conform import conform
from paperset.packager.tables import PAPERS
from tests.conftest import last_json, run_paperset

QUIET = ["--json", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0"]


def latest_papers(root: Path) -> dict[str, dict]:
    dataset = root / "hf-papers"
    version = dataset / (dataset / "LATEST").read_text().strip()
    return {r["paper_id"]: r for r in pq.read_table(sorted((version / "papers").glob("part-*.parquet"))).to_pylist()}


@pytest.mark.slow  # runs of `paperset`
def test_details_from_the_page_keep_upvoters_and_daily_rank_and_the_api_leaves_them_null(tmp_path) -> None:
    with ReplicaServer() as server:
        day = server.index["days"][4]
        rows = [server.site.papers[i["paper"]["id"]] for i in server.site.items("day", day)]
        api = run_paperset("run", "--base-url", server.base_url, "--day", day, "--details", "--out",
                           str(tmp_path / "api"), *QUIET)
        page = run_paperset("run", "--base-url", server.base_url, "--day", day, "--details", "--out",
                            str(tmp_path / "page"), *QUIET, "-s", "PAPERSET_DETAILS_FROM_PAGE=True")
        paper_pages = [p for _, p, _ in server.requests if p.startswith("/papers/2")]
    assert api.returncode == 0 and page.returncode == 0, (api.stderr, page.stderr)
    assert last_json(page.stdout)["crawl"]["fetch_paths"] == {"api": 1}
    assert sorted(paper_pages) == sorted(f"/papers/{r['paper']['id']}" for r in rows)
    from_api, from_page = latest_papers(tmp_path / "api"), latest_papers(tmp_path / "page")
    assert {(p["upvoters"], p["daily_paper_rank"]) for p in from_api.values()} == {(None, None)}
    for row in rows:
        paper = from_page[row["paper"]["id"]]
        shown = min(row["paper"]["upvotes"], UPVOTERS_SHOWN)
        assert paper["upvoters"] == [f"upvoter-{i}" for i in range(shown)]
        assert paper["daily_paper_rank"] == row["_rank"] + 1
        assert paper["num_comments"] == row["numComments"]


def test_a_parent_written_before_the_page_columns_reads_them_as_null() -> None:
    old = pa.schema([f for f in PAPERS if f.name not in ("upvoters", "daily_paper_rank")])
    table = pa.Table.from_pylist([{n: None for n in old.names} | {"paper_key": "2501.00001", "provisional": False}],
                                 schema=old)
    conformed = conform(table, PAPERS)
    assert conformed.schema == PAPERS
    assert conformed.to_pylist()[0]["upvoters"] is None and conformed.to_pylist()[0]["daily_paper_rank"] is None
    assert conformed.column("paper_key").to_pylist() == ["2501.00001"]

"""`paperset demo` (what `make demo` runs): the whole product end to end on the bundled replica, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def test_demo_crawls_every_listing_kind_and_publishes_a_snapshot(tmp_path) -> None:
    result = run_paperset("demo", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr[-4000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1  # with --json, stdout is the outcome alone; the summary goes to stderr
    outcome = json.loads(lines[0])
    assert (outcome["outcome"], outcome["exit_code"]) == ("published", 0)
    text = result.stderr
    for label in ("pages fetched", "entries found", "entries kept", "entries dropped", "papers kept",
                  "near merged", "near linked", "time taken", "published", "load it"):
        assert label in text
    crawl = outcome["crawl"]
    assert crawl["finish_reason"] == "finished" and crawl["entries_dropped"] == 0
    assert crawl["listings"]["no_papers"] == 12
    assert crawl["near_linked"] == 2
    assert outcome["changed"] and outcome["verified"] and outcome["papers"] == crawl["papers"]
    papers = pq.read_table(Path(outcome["path"]) / "papers").to_pylist()
    assert len(papers) == crawl["papers"]
    kinds = {item["kind"] for row in papers for item in row["listings"]}
    assert kinds == {"day", "week", "month", "search", "trending"}
    assert outcome["observations"] == crawl["entries_kept"]
    again = run_paperset("demo", "--out", str(tmp_path), "--json")
    assert json.loads(again.stdout.strip().splitlines()[-1])["changed"] is False

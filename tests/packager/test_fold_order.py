"""The fold's tables are a function of the entries, not of the order they reached the spool: a live crawl
and its replay (or two workers) meet the same responses in other orders, and sightings of one paper
received within the same millisecond (the tables' precision) must fold to the same row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.changes import ChangeLog
from paperset.packager.fold import fold
from paperset.spool.writer import SpoolWriter

# One paper seen at once (the same millisecond) on a day listing and a week listing, with counters and an
# abstract that differ between the two answers, and once more on its paper page.
ENTRIES = [
    {"paper_key": "2502.01061", "paper_id": "2502.01061", "title": "A paper", "abstract": "as the day said",
     "upvotes": 12, "num_comments": 3, "listing_kind": "day", "listing_key": "2025-02-04", "rank": 2,
     "crawled_at": "2025-02-05T10:00:00.123+00:00", "fetch_path": "api"},
    {"paper_key": "2502.01061", "paper_id": "2502.01061", "title": "A paper", "abstract": "as the week said",
     "upvotes": 13, "num_comments": None, "listing_kind": "week", "listing_key": "2025-W06", "rank": 7,
     "crawled_at": "2025-02-05T10:00:00.123+00:00", "fetch_path": "api"},
    {"paper_key": "2502.01061", "paper_id": "2502.01061", "title": "A paper", "abstract": "as the page said",
     "upvotes": 13, "num_comments": 3, "listing_kind": "paper", "listing_key": "2502.01061", "rank": None,
     "crawled_at": "2025-02-05T10:00:00.123+00:00", "fetch_path": "page"},
]


def folded(tmp_path: Path, order: list[int]) -> dict[str, list[dict]]:
    spool = tmp_path / "spool"
    writer = SpoolWriter(spool, {"run_id": "r", "base_url": "http://127.0.0.1", "listings": []})
    for n in order:
        writer.write(dict(ENTRIES[n]))
    writer.close({})
    out = tmp_path / "v"
    out.mkdir()
    changes = ChangeLog(tmp_path / "changes")
    fold([spool], None, out, changes, today=date(2025, 2, 5), recrawl_days=7, version="v", daily_kinds=daily_kinds())
    changes.close()
    return {name: pq.read_table(sorted((out / name).glob("part-*.parquet"))).to_pylist()
            for name in ("papers", "observations")}


def test_sightings_in_the_same_millisecond_fold_alike_in_any_spool_order(tmp_path) -> None:
    orders = [[0, 1, 2], [1, 0, 2], [2, 1, 0], [1, 2, 0]]
    tables = [folded(tmp_path / str(n), order) for n, order in enumerate(orders)]
    assert all(t == tables[0] for t in tables[1:])
    (paper,) = tables[0]["papers"]
    # Content order at a tie: the listings by (kind, key, rank), the last non-null value from the last of them.
    assert [(li["kind"], li["key"]) for li in paper["listings"]] == [
        ("day", "2025-02-04"), ("paper", "2502.01061"), ("week", "2025-W06")]
    assert (paper["abstract"], paper["upvotes"], paper["num_comments"]) == ("as the week said", 13, 3)
    assert len(tables[0]["observations"]) == 3

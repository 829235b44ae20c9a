"""A crawl meeting bad entries on a real listing: each gets its documented outcome and the crawl goes on."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import read_jsonl, run_paperset

DAY = "2025-02-05"


def test_bad_entries_are_rejected_or_repaired_and_the_crawl_goes_on(tmp_path) -> None:
    with ReplicaServer() as server:
        rows = server.site.listings["day", DAY]
        good = len(rows)
        template = rows[0]

        def bad(n: int, change) -> None:
            row = copy.deepcopy(template)
            row["paper"]["id"] = f"2502.9{n:04d}"
            row["_rank"] = len(rows)
            change(row["paper"])
            row["title"] = row["paper"]["title"]  # the wrapper repeats the paper's title
            rows.append(row)

        bad(1, lambda p: p.update(title=""))
        bad(2, lambda p: p.update(summary="x" * 10_000_000))
        bad(3, lambda p: p.update(publishedAt="1900-01-01T00:00:00.000Z"))
        bad(4, lambda p: p.update(publishedAt=f"{datetime.now(UTC).year + 1}-01-01T00:00:00.000Z"))
        bad(5, lambda p: p.update(upvotes=-3))
        bad(6, lambda p: p.update(id="not-an-arxiv-id"))
        bad(7, lambda p: p.update(title="NUL\x00 and\x07 control"))
        bad(8, lambda p: p.update(title="lone \udc80 surrogate"))
        out = tmp_path / "f.jsonl"
        result = run_paperset("crawl", "--base-url", server.base_url, "--day", DAY, "--day", "2025-02-06",
                              "--out", str(out), "--json", "-s", "AUTOTHROTTLE_ENABLED=False",
                              "-s", "DOWNLOAD_MAXSIZE=67108864")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["dropped"] == {"abstract_too_long": 1, "bad_count": 1, "bad_date": 2, "bad_paper_id": 1,
                                  "missing_title": 1}
    rejects = read_jsonl(tmp_path / "f.rejects.jsonl")
    assert sorted(r["reason"] for r in rejects) == ["abstract_too_long", "bad_count", "bad_date", "bad_date",
                                                     "bad_paper_id", "missing_title"]
    assert all(r["source_url"].startswith("http://127.0.0.1") for r in rejects)
    kept = {e["paper_id"]: e for e in read_jsonl(out) if e["listing_key"] == DAY}
    assert len(kept) == good + 2
    # Entries, not responses: each page's entries went through the pipelines as one batch.
    assert (summary["entries_kept"], summary["entries_dropped"]) == (len(read_jsonl(out)), 6)
    assert kept["2502.90007"]["title"] == "NUL and control"
    assert kept["2502.90008"]["title"] == "lone surrogate"
    assert summary["repaired"] == {"control_chars": 2}
    # The next day was crawled all the same.
    assert any(e["listing_key"] == "2025-02-06" for e in read_jsonl(out))

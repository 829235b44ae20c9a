"""Real crawls (the `paperset` command, Scrapy over loopback) of the replica, checked against its source data."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from paperset.crawler.clean.normalize import canonical_timestamp, canonical_url, clean_list, clean_text
from paperset.crawler.replica.build import DATA_DIR
from tests.conftest import read_jsonl, run_paperset

pytestmark = pytest.mark.slow  # real crawls or runs of `paperset`, seconds a test (docs/testing.md)


def source_rows() -> list[dict[str, Any]]:
    days = set(json.loads((DATA_DIR / "index.json").read_text())["days"])
    with gzip.open(DATA_DIR / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [row for row in map(json.loads, lines) if row["_file_date"] in days]


def expected_raw(row: dict[str, Any]) -> dict[str, Any]:
    """What the replica's source says of one day entry, field by field, written out independently."""
    paper = row["paper"]
    org = paper.get("organization") or row.get("organization")
    return {
        "paper_id": paper["id"],
        "title": paper["title"],
        "abstract": paper["summary"] or None,
        "authors": [a["name"] for a in paper["authors"]] or None,
        "published_at": paper["publishedAt"],
        "submitted_on_daily_at": paper.get("submittedOnDailyAt"),
        "upvotes": paper["upvotes"],
        "num_comments": row["numComments"],
        "github_repo": paper.get("githubRepo") or None,
        "github_stars": paper.get("githubStars"),
        "project_page": paper.get("projectPage") or None,
        "ai_keywords": paper.get("ai_keywords") or None,
        "ai_summary": paper.get("ai_summary") or None,
        "organization": org["name"] if org else None,
        "thumbnail": row.get("thumbnail") or None,
        "listing_kind": "day",
        "listing_key": row["_file_date"],
        "rank": row["_rank"],
    }


def normalized(expected: dict[str, Any]) -> dict[str, Any]:
    out = dict(expected)
    for name in ("title", "abstract", "ai_summary", "organization"):
        out[name] = clean_text(out[name])
    for name in ("authors", "ai_keywords"):
        out[name] = clean_list(out[name])
    for name in ("github_repo", "project_page", "thumbnail"):
        out[name] = canonical_url(out[name])
    for name in ("published_at", "submitted_on_daily_at"):
        out[name] = canonical_timestamp(out[name])
    return out


def crawl_days(replica, tmp_path, *extra: str) -> tuple[list[dict[str, Any]], str]:
    first, last = replica.index["days"][0], replica.index["days"][-1]
    out = tmp_path / "f.jsonl"
    result = run_paperset("crawl", "--base-url", replica.base_url, "--range", f"{first}:{last}",
                          "--out", str(out), "-s", "AUTOTHROTTLE_ENABLED=False", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return read_jsonl(out), result.stdout


def by_listing(entries: list[dict[str, Any]], fields: list[str]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(e["listing_key"], e["rank"]): {f: e[f] for f in fields} for e in entries}


@pytest.mark.parametrize("fetch", ["page", "api"])
def test_crawl_gives_every_paper_of_every_day_exactly_as_the_source(replica, tmp_path, fetch) -> None:
    rows = source_rows()
    assert len(replica.index["days"]) >= 30
    entries, stdout = crawl_days(replica, tmp_path, "-s", "PAPERSET_NORMALIZE_ENABLED=False",
                                 "-s", f"PAPERSET_FETCH={fetch}")
    expected = [expected_raw(r) for r in rows]
    fields = list(expected[0])
    assert by_listing(entries, fields) == {(e["listing_key"], e["rank"]): e for e in expected}
    assert len(entries) == len(rows) == replica.index["papers"]
    assert {e["fetch_path"] for e in entries} == {fetch}
    # 47 calendar days: 35 with papers, 12 weekend days the site redirects to the latest day.
    assert "no_papers 12" in stdout


def test_default_crawl_stores_the_source_normalized(replica, tmp_path) -> None:
    entries, _ = crawl_days(replica, tmp_path)
    expected = [normalized(expected_raw(r)) for r in source_rows()]
    fields = list(expected[0])
    assert by_listing(entries, fields) == {(e["listing_key"], e["rank"]): e for e in expected}
    assert all(e["paper_key"] == e["paper_id"] for e in entries)


def test_week_and_month_listings(replica, tmp_path) -> None:
    out = tmp_path / "wm.jsonl"
    result = run_paperset("crawl", "--base-url", replica.base_url, "--week", "2025-W06", "--week", "2025-W10",
                          "--month", "2025-02", "--out", str(out), "-s", "AUTOTHROTTLE_ENABLED=False")
    assert result.returncode == 0, result.stderr[-3000:]
    entries = read_jsonl(out)
    for kind, key in (("week", "2025-W06"), ("week", "2025-W10"), ("month", "2025-02")):
        got = sorted((e["rank"], e["paper_id"]) for e in entries
                     if (e["listing_kind"], e["listing_key"]) == (kind, key))
        want = list(enumerate(item["paper"]["id"] for item in replica.site.items(kind, key)))
        assert got == want and len(got) > 40


def test_bad_arguments_exit_2_with_the_reason(tmp_path) -> None:
    result = run_paperset("crawl", "--day", "2025-02-30", "--out", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2
    assert "not a day (YYYY-MM-DD): '2025-02-30'" in result.stderr


@pytest.mark.parametrize("path", ["/papers/date/2025-02-08", "/papers/date/2031-01-01", "/papers"])
def test_replica_redirects_days_without_papers_to_the_latest(replica, path) -> None:
    status, headers, _ = replica.respond(path, {})
    assert (status, headers["Location"]) == (302, "/papers/date/2025-03-21")

"""The derived columns' rules (paperset/packager/derive.py) on small tables: listing dates, GitHub owner/name,
population, the Daily Papers date and provisional."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa

from paperset.packager import derive
from paperset.packager.tables import LISTING, PAPERS


def test_a_listing_is_dated_by_its_day_or_its_last_day() -> None:
    kinds = pa.array(["day", "week", "week", "month", "month", "search", "paper", "day", None])
    keys = pa.array(["2025-03-04", "2025-W10", "2020-W53", "2025-02", "2024-02", "2025-03-04", "2502.01456",
                     "not a date", None])
    assert derive.listing_dates(kinds, keys).to_pylist() == [
        date(2025, 3, 4), date(2025, 3, 9), date(2021, 1, 3), date(2025, 2, 28), date(2024, 2, 29), None, None,
        None, None]


def test_github_owner_and_name_normalized() -> None:
    urls = pa.array(["https://github.com/Alibaba-NLP/WebAgent/", "https://github.com/a/b/tree/main/src",
                     "http://www.github.com/Owner/Repo.git", "https://github.com/justauser",
                     "https://gitlab.com/a/b", None])
    assert derive.github_name(urls).to_pylist() == ["alibaba-nlp/webagent", "a/b", "owner/repo", None, None, None]


def _papers(listings: list[list[tuple[str, str]]], submitted: list[datetime | None],
            ids: list[str | None]) -> pa.Table:
    items = [[{"kind": k, "key": v, "rank": 0, "seen_at": None, "date": derive.listing_day(k, v)} for k, v in row]
             for row in listings]
    return pa.table({"listings": pa.array(items, pa.list_(LISTING)),
                     "submitted_on_daily_at": pa.array(submitted, PAPERS.field("submitted_on_daily_at").type),
                     "paper_id": pa.array(ids, pa.string()), "cluster_id": pa.array(["x"] * len(ids), pa.string())})


def test_population_daily_date_and_provisional_follow_the_rules() -> None:
    papers = _papers([[("day", "2025-03-04"), ("day", "2025-03-03"), ("week", "2025-W10")],
                      [("month", "2025-02")],
                      [("search", "q"), ("week", "2025-W10")],
                      [("search", "q")],
                      [("search", "q")],
                      [("paper", "2502.01456")]],
                     [datetime(2025, 3, 5, 23), None, None, datetime(2025, 3, 20, 1), None, None],
                     ["1", "2", "3", "4", None, "6"])
    daily = derive.daily_date(papers)
    assert daily.to_pylist() == [date(2025, 3, 3), None, None, date(2025, 3, 20), None, None]
    papers = papers.append_column("daily_date", daily)
    assert derive.provisional(papers, date(2025, 3, 5)).to_pylist() == [True, False, True, True, None, None]
    assert derive.population(papers).to_pylist() == ["daily", "daily", "daily", "daily", "search_only",
                                                     "indexed_only"]
    assert derive.cluster_relation(papers).to_pylist() == ["related"] * 4 + ["possible_copy", "related"]
    assert "arxiv_version" not in PAPERS.names  # the source never gives one: not a papers column


def test_column_stats_count_fills_and_distinct_values_within_a_memory_bound(tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    from paperset.packager import stats

    schema = pa.schema([("text", pa.string()), ("tags", pa.list_(pa.string()))])
    table = pa.table({"text": ["a", "b", None, "a", "c" * 100] * 3,
                      "tags": [["x", "y"], [], None, ["x"], ["z"]] * 3}, schema=schema)
    (tmp_path / "t").mkdir()
    pq.write_table(table.slice(0, 7), tmp_path / "t" / "part-00000.parquet")
    pq.write_table(table.slice(7), tmp_path / "t" / "part-00001.parquet")
    assert stats.column_stats(tmp_path / "t", schema) == [
        {"name": "text", "rows": 15, "filled": 12, "distinct": 3, "at_least": False},
        {"name": "tags", "rows": 15, "filled": 9, "distinct": 3, "at_least": False}]
    monkeypatch.setattr(stats, "DISTINCT_BYTES", 50)
    monkeypatch.setattr(stats, "BATCH_ROWS", 2)
    monkeypatch.setattr(stats, "MERGE_BYTES", 0)
    assert stats.column_stats(tmp_path / "t", schema)[0]["at_least"] is True

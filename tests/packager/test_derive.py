"""The derived columns' rules (paperset/packager/derive.py) on small tables: listing dates, GitHub owner/name,
population, the Daily Papers date and provisional."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager import derive
from paperset.packager.errors import PackagerError
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
    assert derive.population(papers, daily_kinds()).to_pylist() == ["daily", "daily", "daily", "daily",
                                                                    "search_only", "indexed_only"]
    # Which kinds are daily is what the caller hands down (the registry's Kind.daily): none, and only the
    # submittedOnDailyAt makes a paper daily.
    assert derive.population(papers, ()).to_pylist() == ["daily", "indexed_only", "search_only", "daily",
                                                         "search_only", "indexed_only"]
    assert derive.population_rule(daily_kinds()) == (
        "daily (seen on a day, week, month or trending listing, or with a submittedOnDailyAt), search_only "
        "(otherwise, seen on a search listing), indexed_only (otherwise: a paper page of the index, never on "
        "Daily Papers)")
    assert derive.population_rule(["day"]).startswith("daily (seen on a day listing, or with a submittedOnDailyAt)")
    assert derive.population_rule([]).startswith("daily (with a submittedOnDailyAt), search_only")
    assert derive.cluster_relation(papers).to_pylist() == ["related"] * 4 + ["possible_copy", "related"]
    assert "arxiv_version" not in PAPERS.names  # the source never gives one: not a papers column


def test_column_figures_add_up_across_partitions_exactly_or_as_a_stated_estimate(tmp_path, monkeypatch) -> None:
    from paperset.packager import sketch, stats

    schema = pa.schema([("paper_key", pa.string()), ("text", pa.string()), ("tags", pa.list_(pa.string())),
                        ("when", pa.date32())])
    table = pa.table({"paper_key": [f"k{n}" for n in range(15)], "text": ["a", "b", None, "a", "c" * 100] * 3,
                      "tags": [["x", "y"], [], None, ["x"], ["z"]] * 3,
                      "when": [date(2025, 3, 1 + n % 4) for n in range(15)]}, schema=schema)
    # two partitions, the first folded in two units: their figures merge as the sidecars are read back
    first = {}
    stats.add_figures(first, "t", stats.column_figures(table.slice(0, 4)))
    stats.add_figures(first, "t", stats.column_figures(table.slice(4, 3)))
    stats.write_sidecar(tmp_path / "stats", "6b30", first)
    stats.write_sidecar(tmp_path / "stats", "6b31", {"t": stats.column_figures(table.slice(7))})
    assert stats.column_stats(tmp_path, "t", schema) == [
        {"name": "paper_key", "rows": 15, "filled": 15, "distinct": 15, "exact": True},
        {"name": "text", "rows": 15, "filled": 12, "distinct": 3, "exact": True},
        {"name": "tags", "rows": 15, "filled": 9, "distinct": 3, "exact": True},
        {"name": "when", "rows": 15, "filled": 15, "distinct": 4, "exact": True}]
    # given the rows written, figures that do not cover exactly those are an error, never a smaller card
    assert stats.column_stats(tmp_path, "t", schema, 15) == stats.column_stats(tmp_path, "t", schema)
    with pytest.raises(PackagerError, match=r"the figures of t.paper_key cover 15 rows of the 16 written"):
        stats.column_stats(tmp_path, "t", schema, 16)
    (tmp_path / "stats" / "part-6b31.json").unlink()  # a partition's figures lost
    with pytest.raises(PackagerError, match=r"cover 7 rows of the 15 written"):
        stats.column_stats(tmp_path, "t", schema, 15)
    # past EXACT distinct values in a partition, the count is an estimate within a few standard errors
    monkeypatch.setattr(sketch, "EXACT", 2)
    many = pa.table({"paper_key": [f"{n:06d}" for n in range(40_000)],
                     "text": [f"t{n % 30_000}" for n in range(40_000)],
                     "tags": [[f"a{n}"] for n in range(40_000)], "when": [date(2025, 1, 1)] * 40_000}, schema=schema)
    for n, start in enumerate(range(0, 40_000, 10_000)):
        stats.write_sidecar(tmp_path / "big" / "stats", f"{n}", {"t": stats.column_figures(many.slice(start, 10_000))})
    found = {c["name"]: c for c in stats.column_stats(tmp_path / "big", "t", schema)}
    assert found["paper_key"] == {"name": "paper_key", "rows": 40_000, "filled": 40_000, "distinct": 40_000,
                                  "exact": True}
    assert found["text"]["exact"] is False and abs(found["text"]["distinct"] - 30_000) < 4 * sketch.ERROR * 30_000
    assert found["tags"]["exact"] is False and abs(found["tags"]["distinct"] - 40_000) < 4 * sketch.ERROR * 40_000
    assert found["when"] == {"name": "when", "rows": 40_000, "filled": 40_000, "distinct": 1, "exact": True}

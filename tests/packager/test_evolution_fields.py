"""Schema evolution over the 2026 columns (issue 28): a parent written before them (as main at 0e0506f wrote
it: the papers table without the twelve columns) still verifies and folds; the child has them, null for
the papers the parent held; one DuckDB query (union_by_name) and one `datasets` load read both versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from paperset.crawler.pipelines.normalize import NormalizePipeline
from paperset.crawler.replica.build import CORPUS_2026, read_corpus
from paperset.crawler.site.kinds import daily_kinds
from paperset.crawler.site.pages import parse_api_listing
from paperset.packager.build import package
from paperset.packager.manifest import problems
from paperset.packager.tables import PAPERS
from paperset.spool.fields import FIELDS
from paperset.spool.writer import SpoolWriter
from tests.conftest import corpus_spool

from .conftest import rewrite_tables

COLUMNS_28 = [f.name for f in FIELDS[FIELDS.index(next(f for f in FIELDS if f.name == "item_published_at")):]]


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def spool_2026(folder: Path, day: str) -> Path:
    """The real 2026 items of `day` as the crawl spools them: extracted and normalized."""
    items = [{k: v for k, v in r.items() if not k.startswith("_")} for r in read_corpus(CORPUS_2026)
             if r["_file_date"] == day]
    normalize = NormalizePipeline(Stats())  # type: ignore[arg-type]
    writer = SpoolWriter(folder, {"run_id": folder.name, "base_url": "http://127.0.0.1", "listings": []})
    for entry in parse_api_listing(json.dumps(items), url="http://127.0.0.1/api", kind="day", key=day):
        normalize.process_item(entry)
        entry.paper_key, entry.crawled_at, entry.fetch_path = entry.paper_id, f"{day}T12:00:00+00:00", "api"
        writer.write(entry.to_dict())
    writer.close({"paperset/fetch/api": 1})
    return folder


def make_before_28(version: Path) -> None:
    """Rewrite a version's papers as the packager before issue 28 wrote them (no 2026 columns), manifest
    included: what a version published by main at 0e0506f holds."""
    rewrite_tables(version, {"papers": pq.read_table(version / "papers").drop_columns(COLUMNS_28)})


def test_a_version_from_before_the_2026_columns_verifies_folds_and_reads_with_the_new(tmp_path, corpus_path) -> None:
    now = datetime(2026, 12, 6, 9, tzinfo=UTC)
    first = package([corpus_spool(tmp_path / "s1", corpus_path, 20)], tmp_path, "ds", now=now, progress=False,
                    daily_kinds=daily_kinds())
    old = Path(first.path)
    make_before_28(old)
    assert not set(COLUMNS_28) & set(pq.read_schema(next((old / "papers").glob("*.parquet"))).names)
    assert problems(old) == []
    second = package([spool_2026(tmp_path / "s2", "2026-08-21")], tmp_path, "ds", now=now, progress=False,
                     daily_kinds=daily_kinds())
    new = Path(second.path)
    assert (second.parent, second.added) == (first.version, 17)
    assert problems(new) == [] and problems(old) == []
    rows = pq.read_table(new / "papers", schema=PAPERS).to_pylist()
    before = set(pq.read_table(old / "papers").column("paper_key").to_pylist())
    assert (len(rows), len(before)) == (37, 20)
    assert all(r["discussion_id"] is None and r["submitted_by"] is None for r in rows if r["paper_key"] in before)
    assert all(r["discussion_id"] and r["submitted_by"]["id"] and r["author_details"] and r["item_published_at"]
               for r in rows if r["paper_key"] not in before)

    import duckdb

    files = [str(p) for v in (old, new) for p in sorted((v / "papers").glob("*.parquet"))]
    counts = duckdb.sql(f"SELECT count(*), count(discussion_id), count(submitted_by.name) FROM read_parquet("
                        f"{files!r}, union_by_name = true)").fetchall()
    assert counts == [(20 + 37, 17, 17)]

    from datasets import Features, load_dataset

    loaded: Any = load_dataset("parquet", data_files={"train": files}, split="train",
                               features=Features.from_arrow_schema(PAPERS), cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == 57
    assert sum(d is not None for d in loaded["discussion_id"]) == 17

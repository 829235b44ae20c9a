"""The card's figures as a researcher checks them in DuckDB: a distinct count is exact where the values of
the partitions cannot overlap (a paper's key and id), an estimate is never above the values there are, a
version's new observations are the version's (not a partition's), and the runs record the site they
crawled."""

from __future__ import annotations

import json

import pyarrow as pa
from scrapy.settings import Settings

from paperset.crawler.pipelines.spool import spool_meta
from paperset.packager import sketch, stats

from .conftest import make_spool, package, version_of

SCHEMA = pa.schema([("paper_key", pa.string()), ("paper_id", pa.string()), ("title", pa.string()),
                    ("authors", pa.list_(pa.string()))])


def test_an_id_counts_exactly_and_an_estimate_never_exceeds_the_filled_values(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sketch, "EXACT", 2)  # every partition's sketch of more than 2 values is registers
    for n in range(4):
        keys = [f"{n}{k:05d}" for k in range(3_000)]
        table = pa.table({"paper_key": keys, "paper_id": keys, "title": [f"t{n}-{k}" for k in range(3_000)],
                          "authors": [[f"a{n}-{k}", f"b{n}-{k}"] for k in range(3_000)]}, schema=SCHEMA)
        stats.write_sidecar(tmp_path / "stats", f"p{n}", {"papers": stats.column_figures(table)})
    # A partition whose title sketch says more values than it has rows (what an estimate can say).
    over = stats.ColumnFigure(rows=10, filled=10, sketch=sketch.Sketch())
    over.sketch.add(pa.array([f"x{k}" for k in range(5_000)]))
    record = {"papers": {"title": over.to_json()}}
    (tmp_path / "stats" / "part-q.json").write_text(json.dumps(record), encoding="utf-8")
    found = {c["name"]: c for c in stats.column_stats(tmp_path, "papers", SCHEMA)}
    assert found["paper_key"] == {"name": "paper_key", "rows": 12_000, "filled": 12_000, "distinct": 12_000,
                                  "exact": True}
    assert found["paper_id"] == {"name": "paper_id", "rows": 12_000, "filled": 12_000, "distinct": 12_000,
                                 "exact": True}
    assert found["title"]["exact"] is False and found["title"]["filled"] == 12_010
    assert found["title"]["distinct"] <= 12_010
    # A list column's distinct values (its elements) may outnumber its rows: no cap.
    assert found["authors"]["exact"] is False and found["authors"]["distinct"] > 12_000


def test_the_manifest_counts_the_versions_new_observations_once(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, 120)
    assert package(spool, tmp_path / "out").returncode == 0
    manifest = json.loads((version_of(tmp_path / "out") / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["new_observations"] == manifest["rows"]["observations"] == 120
    assert [p for p, record in manifest["partitions"].items() if "new_observations" in record] == []


def test_a_crawls_recorded_settings_name_the_site_it_crawled() -> None:
    settings = Settings({"PAPERSET_BASE_URL": "https://huggingface.co", "PAPERSET_DEDUPE_ENABLED": True})
    meta = spool_meta(settings, run_id="r", base_url="http://127.0.0.1:8123", listings=[])
    assert (meta["base_url"], meta["settings"]["PAPERSET_BASE_URL"]) == ("http://127.0.0.1:8123", "http://127.0.0.1:8123")

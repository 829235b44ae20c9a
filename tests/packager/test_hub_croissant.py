"""croissant.json (written as mlcroissant writes it, paperset/packager/croissant.py): every record set loads
through mlcroissant, list columns as repeated fields and sub-fields, with the counts and a sample row of
the Parquet tables."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from paperset.spool.writer import SpoolWriter
from tests.conftest import last_json, run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def test_every_record_set_loads_through_mlcroissant(tmp_path, corpus_path) -> None:
    import mlcroissant as mlc

    writer = SpoolWriter(tmp_path / "spool", {"run_id": "r", "base_url": "http://127.0.0.1", "listings": []})
    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines][515:545]  # papers with and without ai_keywords
    for row in rows:
        paper = row["paper"]
        writer.write({"paper_key": paper["id"], "paper_id": paper["id"], "title": paper["title"],
                      "abstract": paper["summary"], "authors": [a["name"] for a in paper["authors"]],
                      "ai_keywords": paper.get("ai_keywords"), "published_at": paper["publishedAt"],
                      "upvotes": paper["upvotes"], "num_comments": row["numComments"], "listing_kind": "day",
                      "listing_key": row["_file_date"], "rank": row["_rank"],
                      "crawled_at": f"{row['_file_date']}T12:00:00+00:00", "fetch_path": "api"})
    writer.close({"paperset/fetch/api": 1})
    result = run_paperset("package", "--spool", str(tmp_path / "spool"), "--out", str(tmp_path / "out"),
                          "--name", "ds", "--json")
    assert result.returncode == 0, result.stderr
    version = Path(last_json(result.stdout)["path"])
    document = json.loads((version / "croissant.json").read_text())
    assert document["url"] == "https://huggingface.co/datasets/OWNER/ds" and document["version"] == version.name
    fields = {f["@id"]: f for rs in document["recordSet"] for f in rs["field"]}
    assert fields["papers/authors"]["repeated"] is True and fields["papers/ai_keywords"]["repeated"] is True
    assert [s["name"] for s in fields["papers/listings"]["subField"]] == ["kind", "key", "rank", "seen_at", "date"]
    assert fields["observations/paper_key"]["references"] == {"field": {"@id": "papers/paper_key"}}
    assert {rs["@id"]: rs["key"] for rs in document["recordSet"]}["papers"] == {"@id": "papers/paper_key"}

    dataset = mlc.Dataset(jsonld=str(version / "croissant.json"))
    for table in ("papers", "observations", "changes"):
        expected = pq.read_table(version / table).to_pylist()
        records = list(dataset.records(record_set=table))
        assert len(records) == len(expected) == 30, table
        first = records[0]
        assert first[f"{table}/paper_key"].decode() == expected[0]["paper_key"]
    papers = list(dataset.records(record_set="papers"))
    expected = pq.read_table(version / "papers").to_pylist()
    with_keywords = next(i for i, row in enumerate(expected) if row["ai_keywords"])
    record, row = papers[with_keywords], expected[with_keywords]
    assert [a.decode() for a in record["papers/authors"]] == row["authors"]
    assert [k.decode() for k in record["papers/ai_keywords"]] == row["ai_keywords"]
    assert [(item["papers/listings/kind"].decode(), item["papers/listings/key"].decode(),
             item["papers/listings/rank"]) for item in record["papers/listings"]] == [
        (item["kind"], item["key"], item["rank"]) for item in row["listings"]]
    assert record["papers/upvotes"] == row["upvotes"] and record["papers/title"].decode() == row["title"]

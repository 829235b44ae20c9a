"""The link tables' folding (paperset/packager/links.py) from links files as the spider writes them: change-only
(a paper cited by 300 Spaces costs nothing on a night when nothing moved), intervals closed and reopened,
an unknown lookup keeping the links it had; and docs/links.md's field table equal to the schemas."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from paperset.packager.links import fold_links
from paperset.packager.links_schema import LINK_TABLES
from tests.conftest import ROOT

NIGHT = datetime(2026, 6, 1, 3, tzinfo=UTC)
SPACES = [{"id": f"u/space-{n:03d}"} for n in range(300)]


def spool(folder: Path, *records: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "links.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return folder


def paper(paper_id: str, spaces: list[dict], models: list[dict] | None = None) -> list[dict]:
    """A complete lookup: the answer (a preview of 5 Spaces) and the Spaces listing in pages of 100."""
    models = models or []
    pages = [spaces[i:i + 100] for i in range(0, len(spaces), 100)] or [[]]
    return [{"paper_id": paper_id, "part": "paper", "totals": {"models": len(models), "datasets": 0,
                                                               "spaces": len(spaces)},
             "items": {"models": models, "datasets": [], "spaces": spaces[:5]}, "chains": ["spaces", "collections"]},
            *({"paper_id": paper_id, "part": "spaces", "items": page, "last": i == len(pages) - 1}
              for i, page in enumerate(pages)),
            {"paper_id": paper_id, "part": "collections", "items": [{"slug": "o/c-1", "title": "C", "owner": "o"}],
             "last": True}]


def rows(version: Path, table: str) -> list[dict]:
    return pq.read_table(version / table).to_pylist()


def test_a_night_when_nothing_moved_writes_no_row(tmp_path: Path) -> None:
    models = [{"id": "m/a", "likes": 3, "downloads": 10}]
    first = fold_links([spool(tmp_path / "s0", *paper("2501.00001", SPACES, models))], None, tmp_path / "v0", NIGHT)
    assert first.rows["links"] == 301 and first.changed["links"] == 301
    same = fold_links([spool(tmp_path / "s1", *paper("2501.00001", SPACES, models))], tmp_path / "v0",
                      tmp_path / "v1", NIGHT + timedelta(days=1))
    assert same.changed == dict.fromkeys(LINK_TABLES, 0) and not same.any_change
    assert same.rows == first.rows
    assert [pq.read_table(tmp_path / "v1" / t).to_pylist() == pq.read_table(tmp_path / "v0" / t).to_pylist()
            for t in LINK_TABLES] == [True] * len(LINK_TABLES)


def test_intervals_close_reopen_and_unknown_keeps_the_links(tmp_path: Path) -> None:
    n1, n2, n3 = (NIGHT + timedelta(days=d) for d in (0, 1, 2))
    fold_links([spool(tmp_path / "s0", *paper("2501.00001", SPACES[:10]))], None, tmp_path / "v0", n1)
    moved = fold_links([spool(tmp_path / "s1", *paper("2501.00001", SPACES[1:11]))], tmp_path / "v0",
                       tmp_path / "v1", n2)
    assert moved.changed["links"] == 2 and moved.changed["link_totals"] == 0
    back = fold_links([spool(tmp_path / "s2", *paper("2501.00001", SPACES[:10]))], tmp_path / "v1",
                      tmp_path / "v2", n3)
    assert back.changed["links"] == 2
    stretches = [(r["first_seen_at"], r["removed_at"]) for r in rows(tmp_path / "v2", "links")
                 if r["repo_id"] in ("u/space-000", "u/space-010")]
    assert stretches == [(n1, n2), (n3, None), (n2, n3)]
    failed = {"paper_id": "2501.00001", "part": "failed", "reason": "http_500"}
    unknown = fold_links([spool(tmp_path / "s3", paper("2501.00001", [])[0], failed)], tmp_path / "v2",
                         tmp_path / "v3", n3 + timedelta(days=1))
    assert unknown.unknown == 1 and unknown.changed == {**dict.fromkeys(LINK_TABLES, 0), "link_status": 1}
    assert rows(tmp_path / "v3", "links") == rows(tmp_path / "v2", "links")
    assert [(r["status"], r["reason"]) for r in rows(tmp_path / "v3", "link_status")] == [("unknown", "http_500")]


def test_the_docs_field_table_is_the_schemas() -> None:
    text = (ROOT / "docs" / "links.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| (\w+) \| (\w+) \| [^|]+ \| (.+) \|$", text, re.M)
    schemas = [(name, f.name, f.metadata[b"description"].decode()) for name in ("links", "collections",
               "link_totals", "repo_counters", "link_status") for f in LINK_TABLES[name]]
    assert documented[1:] == schemas


def test_a_night_without_links_carries_the_tables_as_they_were(tmp_path: Path) -> None:
    fold_links([spool(tmp_path / "s0", *paper("2501.00001", SPACES[:7]))], None, tmp_path / "v0", NIGHT)
    carried = fold_links([], tmp_path / "v0", tmp_path / "v1", NIGHT + timedelta(days=1))
    assert not carried.any_change and carried.rows["links"] == 7
    assert {t: rows(tmp_path / "v1", t) for t in LINK_TABLES} == {t: rows(tmp_path / "v0", t) for t in LINK_TABLES}
    assert fold_links([], None, tmp_path / "v2", NIGHT).rows == {} and not (tmp_path / "v2").exists()


def files(version: Path, table: str) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in sorted((version / table).glob("*.parquet"))}


def test_a_night_rewrites_only_the_partitions_of_the_papers_it_looked_up(tmp_path: Path) -> None:
    """The paper tables by paper_id prefix, repo counters by month: the rest is the parent's files, linked."""
    models = [{"id": "m/a", "likes": 3, "downloads": 10}]
    fold_links([spool(tmp_path / "s0", *paper("2501.00001", SPACES[:3], models), *paper("2502.00001", SPACES[:2]))],
               None, tmp_path / "v0", NIGHT)
    night = fold_links([spool(tmp_path / "s1", *paper("2502.00001", SPACES[:4],
                                                      [{"id": "m/a", "likes": 4, "downloads": 10}]))],
                       tmp_path / "v0", tmp_path / "v1", NIGHT + timedelta(days=31))
    jan, feb = "part-32353031-00000.parquet", "part-32353032-00000.parquet"  # "2501", "2502"
    for table in ("links", "collections", "link_totals", "link_status"):
        before, after = files(tmp_path / "v0", table), files(tmp_path / "v1", table)
        assert sorted(before) == sorted(after) == [jan, feb]
        assert after[jan] == before[jan] and after[feb] != before[feb]  # 2501 linked, 2502 rewritten
    june, july = "part-323032363036-00000.parquet", "part-323032363037-00000.parquet"  # "202606", "202607"
    assert files(tmp_path / "v1", "repo_counters") == {june: files(tmp_path / "v0", "repo_counters")[june],
                                                       july: files(tmp_path / "v1", "repo_counters")[july]}
    assert [(r["likes"], r["observed_at"].month) for r in rows(tmp_path / "v1", "repo_counters")] == [(3, 6), (4, 7)]
    assert night.rows == {"links": 9, "collections": 2, "link_totals": 3, "link_status": 2, "repo_counters": 2}
    assert night.changed == {"links": 3, "collections": 0, "link_totals": 1, "link_status": 0, "repo_counters": 1}
    assert [r["repo_id"] for r in rows(tmp_path / "v1", "links") if r["paper_id"] == "2501.00001"] == [
        "m/a", "u/space-000", "u/space-001", "u/space-002"]


def test_a_links_file_with_an_unreadable_line_is_an_error_but_a_cut_last_line_is_skipped(tmp_path) -> None:
    import pytest

    from paperset.packager.links import read_lookups
    from paperset.spool.errors import SpoolError

    spool = tmp_path / "spool"
    spool.mkdir()
    good = '{"paper_id": "2501.00001", "part": "failed", "reason": "http_500"}\n'
    (spool / "links.jsonl").write_text(good + '{"paper_id": "2501.0')  # killed while writing
    lookups = read_lookups([spool])
    assert list(lookups) == ["2501.00001"] and lookups["2501.00001"].reason == "http_500"
    for bad in ("not json", '{"part": "failed"}', "[1, 2]"):
        (spool / "links.jsonl").write_text(good + bad + "\n" + good)
        with pytest.raises(SpoolError, match=r"links.jsonl: line 2 is not a links record"):
            read_lookups([spool])


def test_a_resumed_crawl_cuts_the_links_files_half_line_before_appending(tmp_path) -> None:
    from paperset.crawler.spiders.hf_papers import HfPapersSpider
    from paperset.packager.links import read_lookups

    spool = tmp_path / "spool"
    spool.mkdir()
    good = '{"paper_id": "2501.00001", "part": "failed", "reason": "http_500"}\n'
    (spool / "links.jsonl").write_text(good + '{"paper_id": "2501.0')  # the killed crawl's last line
    spider = HfPapersSpider.__new__(HfPapersSpider)
    spider.links_out, spider._links_file = spool / "links.jsonl", None
    spider.links_write({"paper_id": "2501.00002", "part": "failed", "reason": "http_404"})
    spider.links_close()
    lookups = read_lookups([spool])
    assert {k: v.reason for k, v in lookups.items()} == {"2501.00001": "http_500", "2501.00002": "http_404"}

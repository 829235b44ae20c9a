"""A night reads only the parent's partitions it may change (#25, paperset/packager/reuse.py): those its entries
fall into, those with papers still in the recrawl window, those whose clusters its links change; the
others are linked unread, and the version is byte for byte the one a fold of the whole parent makes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager import fold as fold_module
from paperset.packager.build import package
from paperset.packager.reuse import ParentPlan
from paperset.spool.writer import SpoolWriter

from .test_sharing import OLD, part

NIGHT = datetime(2026, 1, 2, 5, tzinfo=UTC)


def spool(folder: Path, rows: list[dict]) -> Path:
    writer = SpoolWriter(folder, {"run_id": folder.name, "base_url": "http://127.0.0.1", "listings": []})
    for row in rows:
        key, day = row["paper_key"], row["day"]
        writer.write({"paper_key": key, "paper_id": key, "title": f"Paper {key}", "abstract": "About it.",
                      "authors": ["A. Author"], "published_at": f"{day}T00:00:00+00:00", "upvotes": 1,
                      "num_comments": 0, "listing_kind": "day", "listing_key": day, "rank": int(key[-1]),
                      "crawled_at": f"{day}T12:00:00+00:00", "fetch_path": "api",
                      "cluster_id": row.get("cluster_id"), "similarity": row.get("similarity")})
    writer.close({"paperset/fetch/api": 1})
    return folder


def night(tmp_path: Path, rows: list[dict], monkeypatch: pytest.MonkeyPatch, *, whole: bool = False,
          root_name: str = "root") -> tuple[Path, list[str]]:
    """A first version of the OLD papers (settled: listed in 2023) and a night of `rows`; the new version
    and the parent's files the night read (`whole`: as a fold of the whole parent would)."""
    root = tmp_path / root_name
    first = [{"paper_key": k, "day": f"2023-{k[2:4]}-10"} for k in OLD]
    package([spool(tmp_path / f"{root_name}-s1", first)], root, "ds", now=datetime(2026, 1, 1, 5, tzinfo=UTC),
            progress=False, daily_kinds=daily_kinds())
    read: list[str] = []
    original = fold_module._read_into

    def recording(buckets, links, kind, parts, parent) -> None:
        read.extend(f"{p.parent.name}/{p.name}" for p in parts)
        original(buckets, links, kind, parts, parent)

    monkeypatch.setattr(fold_module, "_read_into", recording)
    if whole:
        monkeypatch.setattr(ParentPlan, "decide", lambda self, touched: None)
    result = package([spool(tmp_path / f"{root_name}-s2", rows)], root, "ds", now=NIGHT, progress=False,
                     daily_kinds=daily_kinds())
    monkeypatch.undo()
    assert result.path
    return Path(result.path), read


def tables(version: Path) -> dict[str, bytes]:
    return {f"{t}/{p.name}": p.read_bytes() for t in ("papers", "observations", "changes")
            for p in sorted((version / t).glob("*.parquet"))}


def test_a_night_reads_only_the_partitions_its_papers_fall_into(tmp_path, monkeypatch) -> None:
    rows = [{"paper_key": "2601.00001", "day": "2026-01-01"}, {"paper_key": "2302.00003", "day": "2023-02-10"}]
    version, read = night(tmp_path, rows, monkeypatch)
    assert read == [f"papers/{part('2302')}", f"observations/{part('2302')}"]
    whole, everything = night(tmp_path, rows, monkeypatch, whole=True, root_name="whole")
    assert len(everything) == 6
    assert tables(version) == tables(whole)
    manifest, other = (json.loads((v / "manifest.json").read_text()) for v in (version, whole))
    assert manifest["rows"] == other["rows"] and manifest["partitions"] == other["partitions"]
    card, other_card = ([line for line in (v / "README.md").read_text().splitlines() if "127.0.0.1" not in line]
                        for v in (version, whole))  # the runs' lines aside (their ids and times)
    assert card == other_card


def test_a_link_to_an_old_paper_refolds_its_partition(tmp_path, monkeypatch) -> None:
    rows = [{"paper_key": "2601.00001", "day": "2026-01-01", "cluster_id": "2301.00002", "similarity": 0.9}]
    version, read = night(tmp_path, rows, monkeypatch)
    assert read == [f"papers/{part('2301')}", f"observations/{part('2301')}"]
    whole, _ = night(tmp_path, rows, monkeypatch, whole=True, root_name="whole")
    assert tables(version) == tables(whole)
    import pyarrow.parquet as pq

    linked = pq.read_table(version / "papers" / part("2301"), columns=["paper_key", "cluster_id"]).to_pylist()
    assert linked == [{"paper_key": "2301.00001", "cluster_id": None},
                      {"paper_key": "2301.00002", "cluster_id": "2301.00002"}]


def test_papers_still_in_the_recrawl_window_are_refolded(tmp_path, monkeypatch) -> None:
    rows = [{"paper_key": "2601.00001", "day": "2026-01-01"}]
    first, _ = night(tmp_path, rows, monkeypatch)
    later = package([spool(tmp_path / "s3", [{"paper_key": "2301.00003", "day": "2023-01-11"}])], first.parent.parent,
                    "ds", now=datetime(2026, 1, 3, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    assert later.path
    # 2601 holds a provisional paper (listed 2026-01-01, within 7 days): it is read again, and stays.
    assert (Path(later.path) / "papers" / part("2601")).stat().st_ino == (first / "papers" / part("2601")).stat().st_ino


def _parent_with(monkeypatch, **fields) -> None:
    """The parent's manifest, as the night reads it, with these fields."""
    original = ParentPlan._layout

    def other(self, parent, horizon):
        manifest = json.loads((parent / "manifest.json").read_text())
        manifest.update(fields)
        (parent / "manifest.json").write_text(json.dumps(manifest))
        return original(self, parent, horizon)

    monkeypatch.setattr(ParentPlan, "_layout", other)


def test_a_parent_of_other_fold_code_is_refolded_whole(tmp_path, monkeypatch) -> None:
    """A derivation rule may have changed with the code: the kept partitions would keep the old rule's values."""
    _parent_with(monkeypatch, fold_version="the digest of an earlier packager")
    rows = [{"paper_key": "2601.00001", "day": "2026-01-01"}]
    _, read = night(tmp_path, rows, monkeypatch)
    assert len(read) == 6


def test_a_parent_of_another_commit_with_the_same_fold_code_keeps_its_partitions(tmp_path, monkeypatch) -> None:
    """A new commit that leaves the packager and the spool as they are (a crawler fix, docs, tests) reads what a
    night of the same commit reads: not the whole parent."""
    rows = [{"paper_key": "2601.00001", "day": "2026-01-01"}]
    _, same = night(tmp_path / "same", rows, monkeypatch)
    _parent_with(monkeypatch, code_version="an earlier commit")
    _, other = night(tmp_path / "other", rows, monkeypatch)
    assert len(other) == len(same) < 6

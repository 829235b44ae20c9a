"""Versions share what did not change (#25): papers and observations are partitioned by the first four
characters of `paper_key` (an arXiv id's month), a partition whose bytes did not change is a hard link to
the parent's file, the manifest says which files were inherited, and pruning the parent never breaks the
child."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.build import package
from paperset.packager.manifest import MANIFEST, file_entries, problems
from paperset.packager.proofs import proofs_path
from paperset.packager.prune import prune
from paperset.spool.writer import SpoolWriter

from ..links.test_link_tables import SPACES, paper

OLD = ("2301.00001", "2301.00002", "2302.00001", "2302.00002", "2303.00001")


def part(prefix: str) -> str:
    return f"part-{prefix.encode().hex()}-00000.parquet"


def sidecar(prefix: str) -> str:
    """The partition's column figures (paperset/packager/stats.py)."""
    return f"stats/part-{prefix.encode().hex()}.json"


def spool(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A finished spool of (paper_key, title, listing day) entries, each seen on its day listing at the
    rank of its key's last digit (with as many upvotes)."""
    writer = SpoolWriter(folder, {"run_id": folder.name, "base_url": "http://127.0.0.1", "listings": []})
    for key, title, day in rows:
        rank = int(key[-1])
        writer.write({"paper_key": key, "paper_id": key, "title": title, "abstract": f"About {title}.",
                      "authors": ["A. Author"], "published_at": f"{day}T00:00:00+00:00", "upvotes": rank,
                      "num_comments": 0, "listing_kind": "day", "listing_key": day, "rank": rank,
                      "crawled_at": f"{day}T12:00:00+00:00", "fetch_path": "api"})
    writer.close({"paperset/fetch/api": 1})
    return folder


def two_versions(tmp_path: Path, night: list[tuple[str, str, str]]) -> tuple[Path, Path, Path]:
    """ROOT/ds: a first version of the OLD papers (listed in 2023), then one of `night` (a day later)."""
    root = tmp_path / "root"
    first = package([spool(tmp_path / "s1", [(k, f"Paper {k}", f"2023-{k[2:4]}-10") for k in OLD])], root, "ds",
                    now=datetime(2026, 1, 1, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    second = package([spool(tmp_path / "s2", night)], root, "ds", now=datetime(2026, 1, 2, 5, tzinfo=UTC),
                     progress=False, daily_kinds=daily_kinds())
    assert first.path and second.path
    return root / "ds", Path(first.path), Path(second.path)


def inodes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in sorted(folder.glob("*.parquet"))}


def inherited(version: Path) -> list[str]:
    """The table files the version's manifest records as inherited from its parent."""
    files = json.loads((version / MANIFEST).read_text())["files"]
    return sorted(name for name, entry in files.items() if entry.get("inherited") and "/" in name)


def test_a_version_built_on_a_parent_shares_its_unchanged_files(tmp_path) -> None:
    _, first, second = two_versions(tmp_path, [("2601.00001", "New paper", "2026-01-01")])
    old = [part("2301"), part("2302"), part("2303")]
    for table in ("papers", "observations"):
        assert sorted(inodes(second / table)) == sorted([*old, part("2601")])
        assert {n: i for n, i in inodes(second / table).items() if n in old} == inodes(first / table)
    assert inherited(second) == sorted([*(f"{t}/{n}" for t in ("observations", "papers") for n in old),
                                        *(sidecar(p) for p in ("2301", "2302", "2303"))])
    assert (second / sidecar("2301")).stat().st_ino == (first / sidecar("2301")).stat().st_ino
    assert (second / "papers" / part("2301")).stat().st_mode & 0o222 == 0  # published files are read-only
    assert problems(second) == [] and problems(second, full=True) == []


def test_a_change_in_one_old_paper_rewrites_only_its_partition(tmp_path) -> None:
    _, first, second = two_versions(tmp_path, [("2302.00002", "A better title", "2023-02-10")])
    before, after = inodes(first / "papers"), inodes(second / "papers")
    assert sorted(n for n in after if after[n] != before.get(n)) == [part("2302")]
    assert inodes(second / "observations") == inodes(first / "observations")  # same counters: nothing new
    assert second.name == "2026.01.02"
    titles = pq.read_table(second / "papers" / part("2302"), columns=["title"]).column("title").to_pylist()
    assert titles == ["Paper 2302.00001", "A better title"]
    assert inherited(second) == sorted([*(f"observations/{n}" for n in before), *(
        f"papers/{n}" for n in before if n != part("2302")), sidecar("2301"), sidecar("2303")])
    # only its partition's column figures are rewritten; the card's counts still add up over the data
    assert (second / sidecar("2302")).read_bytes() != (first / sidecar("2302")).read_bytes()
    card = (second / "README.md").read_text()
    assert "| `title` | `string` | 5 (100.0%) | 5 |" in card and "| `paper_key` | `string` | 5 (100.0%) | 5 |" in card


def test_pruning_the_parent_leaves_the_child_verifying(tmp_path) -> None:
    dataset, first, second = two_versions(tmp_path, [("2601.00001", "New paper", "2026-01-01")])
    rows = pq.read_table(sorted((second / "papers").glob("*.parquet"))).to_pylist()
    assert prune(dataset, 1).removed_versions == [first.name] and not first.exists()
    assert problems(second) == [] and problems(second, full=True) == []
    assert pq.read_table(sorted((second / "papers").glob("*.parquet"))).to_pylist() == rows
    third = package([spool(tmp_path / "s3", [("2601.00002", "Newer", "2026-01-02")])], dataset.parent, "ds",
                    now=datetime(2026, 1, 3, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    assert third.path and problems(Path(third.path)) == []
    assert inodes(Path(third.path) / "papers")[part("2301")] == inodes(second / "papers")[part("2301")]


def test_an_inherited_file_changed_in_place_does_not_verify(tmp_path) -> None:
    _, _, second = two_versions(tmp_path, [("2601.00001", "New paper", "2026-01-01")])
    path = second / "papers" / part("2301")
    data = bytearray(path.read_bytes())
    data[10] ^= 1  # in a data page
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    assert problems(second) == [f"papers/{part('2301')}: checksum or size differs from the manifest"]


def earlier_layout(version: Path) -> None:
    """Rewrite a version as the packager before #25 wrote it: one unpartitioned `part-00000.parquet` per
    table, a manifest of sha256 and size only, no partition figures, no stat proofs."""
    for table in ("papers", "observations"):
        rows = pq.read_table(sorted((version / table).glob("*.parquet")))
        shutil.rmtree(version / table)
        (version / table).mkdir()
        pq.write_table(rows, version / table / "part-00000.parquet", compression="zstd")
    shutil.rmtree(version / "stats")
    manifest = json.loads((version / MANIFEST).read_text())
    manifest["files"] = file_entries(version)
    del manifest["partitions"]
    (version / MANIFEST).write_text(json.dumps(manifest))


def test_a_version_in_the_earlier_layout_verifies_and_is_a_parent(tmp_path) -> None:
    root = tmp_path / "root"
    first = package([spool(tmp_path / "s1", [(k, f"Paper {k}", f"2023-{k[2:4]}-10") for k in OLD])], root, "ds",
                    now=datetime(2026, 1, 1, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    assert first.path
    earlier_layout(Path(first.path))
    proofs_path(Path(first.path)).unlink()
    assert problems(Path(first.path)) == []
    second = package([spool(tmp_path / "s2", [("2601.00001", "New paper", "2026-01-01")])], root, "ds",
                     now=datetime(2026, 1, 2, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    assert second.path and problems(Path(second.path)) == [] and inherited(Path(second.path)) == []
    keys = pq.read_table(sorted((Path(second.path) / "papers").glob("*.parquet"))).column("paper_key").to_pylist()
    assert keys == [*OLD, "2601.00001"]
    assert sorted(inodes(Path(second.path) / "papers")) == [part(p) for p in ("2301", "2302", "2303", "2601")]


def test_full_verify_hashes_what_the_stat_proof_takes_on_trust(tmp_path) -> None:
    """The documented limit of the stat proof: a write whose mtime is set back by hand passes it; --full
    hashes every file."""
    _, _, second = two_versions(tmp_path, [("2601.00001", "New paper", "2026-01-01")])
    path = second / "papers" / part("2301")
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.chmod(0o644)
    with path.open("r+b") as handle:
        handle.write(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert problems(second) == []
    assert problems(second, full=True) == [f"papers/{part('2301')}: checksum or size differs from the manifest"]


def test_the_near_dup_index_is_linked_not_copied(tmp_path) -> None:
    """The run's index is saved by rename, never written in place: the version links it (no second copy),
    and a later save in the run leaves the published file as it was."""
    index = tmp_path / "index"
    index.mkdir()
    (index / "near-dup-index.npz").write_bytes(b"index bytes")
    (index / ".near-dup-index.npz.tmp-1").write_bytes(b"a killed save's")
    result = package([spool(tmp_path / "s1", [("2301.00001", "Paper", "2023-01-10")])], tmp_path / "root", "ds",
                     now=datetime(2026, 1, 1, 5, tzinfo=UTC), dedupe_index=index, progress=False,
                     daily_kinds=daily_kinds())
    assert result.path
    published = Path(result.path) / "dedupe-index"
    assert sorted(p.name for p in published.iterdir()) == ["near-dup-index.npz"]
    assert (published / "near-dup-index.npz").samefile(index / "near-dup-index.npz")
    replacement = index / ".save"
    replacement.write_bytes(b"the next save")
    replacement.replace(index / "near-dup-index.npz")
    assert (published / "near-dup-index.npz").read_bytes() == b"index bytes"
    assert problems(Path(result.path)) == []


def test_links_tables_share_their_untouched_partitions_and_survive_pruning(tmp_path) -> None:
    def night(folder: Path, rows: list[tuple[str, str, str]], *lookups: str) -> Path:
        made = spool(folder, rows)
        records = [r for key in lookups for r in paper(key, SPACES[:2])]
        (made / "links.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return made

    root = tmp_path / "root"
    first = package([night(tmp_path / "s1", [(k, f"Paper {k}", f"2023-{k[2:4]}-10") for k in OLD], *OLD[:3])],
                    root, "ds", now=datetime(2026, 1, 1, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    second = package([night(tmp_path / "s2", [("2601.00001", "New", "2026-01-01")], "2601.00001")], root, "ds",
                     now=datetime(2026, 1, 2, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    assert first.path and second.path
    old, new = Path(first.path), Path(second.path)
    links = [f"links/{part(p)}" for p in ("2301", "2302")]
    assert set(links) <= set(inherited(new)) and f"links/{part('2601')}" not in inherited(new)
    assert {n: i for n, i in inodes(new / "links").items() if n != part("2601")} == inodes(old / "links")
    assert (new / links[0]).stat().st_mode & 0o222 == 0
    rows = pq.read_table(new / "links").to_pylist()
    assert [(r["paper_id"], r["repo_id"]) for r in rows] == [
        (k, f"u/space-00{n}") for k in (*OLD[:3], "2601.00001") for n in (0, 1)]
    assert prune(root / "ds", 1).removed_versions == [old.name]
    assert problems(new) == [] and problems(new, full=True) == []
    assert pq.read_table(new / "links").to_pylist() == rows


def test_a_file_linked_to_its_parents_without_a_stat_proof_is_hashed_once(tmp_path, monkeypatch) -> None:
    """A parent copied or pulled (no stat proofs) and a file already hard-linked to it: its bytes are read
    once, not once as the new file and again as the parent's."""
    import hashlib
    import os

    from paperset.packager import share as share_module

    parent, folder = tmp_path / "2026.12.05", tmp_path / "new"
    (parent / "papers").mkdir(parents=True)
    (folder / "papers").mkdir(parents=True)
    data = b"x" * 4096
    (parent / "papers" / "part-a-00000.parquet").write_bytes(data)
    os.link(parent / "papers" / "part-a-00000.parquet", folder / "papers" / "part-a-00000.parquet")
    digest = hashlib.sha256(data).hexdigest()
    (parent / "manifest.json").write_text(json.dumps(
        {"files": {"papers/part-a-00000.parquet": {"sha256": digest, "bytes": len(data)}}}), encoding="utf-8")
    read: list[str] = []
    real = share_module.sha256
    monkeypatch.setattr(share_module, "sha256", lambda path: read.append(str(path)) or real(path))
    entries, _ = share_module.share(folder, parent)
    assert entries == {"papers/part-a-00000.parquet": {"sha256": digest, "bytes": 4096, "inherited": "2026.12.05"}}
    assert read == [str(folder / "papers" / "part-a-00000.parquet")]
    # and left as the one link it is: no second link made beside it (a rename onto the same inode does nothing)
    assert sorted(p.name for p in (folder / "papers").iterdir()) == ["part-a-00000.parquet"]


def test_a_night_on_a_copied_dataset_publishes_and_verifies(tmp_path) -> None:
    """A dataset copied elsewhere (a restore, a CI cache: new inodes, the stat proofs no longer match): the
    next night links its kept partitions to the copy's parent and publishes a version that verifies."""
    root = tmp_path / "root"
    package([spool(tmp_path / "s1", [(k, f"Paper {k}", f"2023-{k[2:4]}-10") for k in OLD])], root, "ds",
            now=datetime(2026, 1, 1, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    copied = tmp_path / "copied"
    shutil.copytree(root, copied)
    night = package([spool(tmp_path / "s2", [("2601.00001", "New paper", "2026-01-01")])], copied, "ds",
                    now=datetime(2026, 1, 2, 5, tzinfo=UTC), progress=False, daily_kinds=daily_kinds())
    version = Path(night.path)
    assert problems(version) == [] and problems(version, full=True) == []
    assert not [p for p in version.rglob(".*") if p.is_file()]  # no temporary left in the version
    assert inherited(version) == sorted([*(f"{t}/{part(p)}" for t in ("observations", "papers")
                                           for p in ("2301", "2302", "2303")),
                                         *(sidecar(p) for p in ("2301", "2302", "2303"))])


def test_one_rule_names_the_partitions_of_every_table() -> None:
    from datetime import datetime as moment

    from paperset.packager.buckets import partition_name
    from paperset.packager.link_parts import paper_partitions, partition_of
    from paperset.packager.reuse import partitions_of

    assert partition_name("2301.00001") == partition_name("2301") == "32333031"
    assert part("2301") == f"part-{partition_name('2301.00001')}-00000.parquet"
    assert partitions_of(pa.array(["2301.00001", "2302.00002", "ck:ab12"])) == {"32333031", "32333032", "636b3a61"}
    assert paper_partitions(["2301.00001"]) == {"32333031"}
    assert partition_of("links", {"paper_id": "2301.00001"}) == "32333031"
    assert partition_of("repo_counters", {"observed_at": moment(2026, 1, 2)}) == "323032363031"  # by month

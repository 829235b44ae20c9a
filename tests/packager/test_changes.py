"""Each version's `changes/` Parquet (added, removed, changed with the fields) and `paperset diff --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from paperset.packager.manifest import problems
from paperset.packager.tables import CHANGES
from tests.conftest import corpus_spool, last_json, run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def spool(folder: Path, corpus_path: Path, count: int, bump: dict[str, int] | None = None) -> Path:
    """The corpus's first `count` items as a spool; `bump` adds upvotes to some papers."""
    return corpus_spool(folder, corpus_path, count, bump=bump)

def package(folder: Path, root: Path) -> Path:
    result = run_paperset("package", "--spool", str(folder), "--out", str(root), "--name", "ds", "--json")
    assert result.returncode == 0, result.stderr
    return Path(last_json(result.stdout)["path"])


def changes(version: Path) -> list[dict]:
    """The change rows' paper_key, change and fields (test_nights.py checks the rows they carry)."""
    table = pq.read_table(sorted((version / "changes").glob("*.parquet")), schema=CHANGES)
    return table.select(["paper_key", "change", "fields"]).to_pylist()


def test_every_version_carries_its_changes_and_diff_json_agrees(tmp_path, corpus_path) -> None:
    first = package(spool(tmp_path / "s1", corpus_path, 30), tmp_path / "out")
    keys = sorted(r["paper_key"] for r in pq.read_table(first / "papers").to_pylist())
    assert changes(first) == [{"paper_key": k, "change": "added", "fields": []} for k in keys]
    moved = keys[3]
    second = package(spool(tmp_path / "s2", corpus_path, 40, {moved: 7}), tmp_path / "out")
    assert problems(second) == []
    manifest = json.loads((second / "manifest.json").read_text())
    rows = changes(second)
    assert manifest["rows"]["changes"] == len(rows) == 11
    new_keys = sorted(r["paper_key"] for r in pq.read_table(second / "papers").to_pylist())
    added = sorted(set(new_keys) - set(keys))
    assert rows == sorted([{"paper_key": k, "change": "added", "fields": []} for k in added]
                          + [{"paper_key": moved, "change": "changed", "fields": ["upvotes"]}],
                          key=lambda r: r["paper_key"])
    result = run_paperset("diff", str(first), str(second), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"from": first.name, "to": second.name, "added": added, "removed": [],
                                         "changed": {moved: ["upvotes"]},
                                         "counts": {"added": 10, "removed": 0, "changed": 1}}
    back = json.loads(run_paperset("diff", str(second), str(first), "--json").stdout)
    assert back["removed"] == added and back["added"] == [] and back["changed"] == {moved: ["upvotes"]}
    text = run_paperset("diff", str(first), str(second))
    assert text.stdout.startswith(
        f"# Changes in {second.name}\n\nAgainst {first.name}: 10 added, 0 removed, 1 changed.")

"""Versions share their near-dup index segments: a night's version holds its parent's segment files (the
same inodes, `inherited` in its manifest) and adds one segment of the night's new entries; pruning the
parent leaves it verifying; a version whose index is the single-file format of before is a parent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_paperset

from .test_store import V1_INDEX

pytestmark = pytest.mark.slow  # `paperset run` end to end, three times (docs/testing.md)


def night(replica, root: Path, day: str) -> dict:
    result = run_paperset("run", "--base-url", replica.base_url, "--day", day, "--out", str(root), "--name", "ds",
                          "--json", "-s", "AUTOTHROTTLE_ENABLED=False")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def index_files(version: Path) -> dict[str, Path]:
    return {str(f.relative_to(version)): f for f in sorted((version / "dedupe-index").rglob("*")) if f.is_file()}


def test_a_nights_version_links_its_parents_segments_and_adds_one(tmp_path, replica) -> None:
    root = tmp_path / "root"
    first = Path(night(replica, root, "2025-02-03")["path"])
    second = Path(night(replica, root, "2025-02-04")["path"])
    old, new = index_files(first), index_files(second)
    [first_segment] = {Path(name).parts[1] for name in old}
    assert set(old) < set(new)
    assert all(new[name].samefile(old[name]) for name in old)  # the parent's segment: the same inodes
    added = {Path(name).parts[1] for name in set(new) - set(old)}
    assert len(added) == 1 and not (second / "dedupe-index" / "near-dup-index.npz").exists()
    files = json.loads((second / "manifest.json").read_text())["files"]
    assert {name for name, entry in files.items() if entry.get("inherited") == first.name
            and name.startswith("dedupe-index/")} == set(old)
    # The run stamped the parent's segment files with the packager's stat proofs: not CRC-checked again.
    [stamps] = [json.loads(p.read_text()) for p in (root / "ds" / ".runs").glob("*/dedupe-index/.checked.json")
                if any(name.startswith(next(iter(added))) for name in json.loads(p.read_text()))]
    assert {f"dedupe-index/{name}" for name in stamps} == set(new)
    header = json.loads((second / "dedupe-index" / added.pop() / "header.json").read_text())["body"]
    assert header["start"] == int(first_segment.split("-")[2])  # the night's entries only
    shutil.rmtree(first)
    result = run_paperset("verify", str(second))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_parent_with_the_single_file_index_of_before_is_continued(tmp_path, replica) -> None:
    root = tmp_path / "root"
    first = Path(night(replica, root, "2025-02-03")["path"])
    index = first / "dedupe-index"
    for path in index.iterdir():  # the parent as the code of before published it: one near-dup-index.npz
        shutil.rmtree(path)
    index.chmod(0o755)
    shutil.copy(V1_INDEX / "near-dup-index.npz", index / "near-dup-index.npz")
    manifest = json.loads((first / "manifest.json").read_text())
    manifest["files"] = {n: e for n, e in manifest["files"].items() if not n.startswith("dedupe-index/")}
    from paperset.packager.manifest import sha256

    manifest["files"]["dedupe-index/near-dup-index.npz"] = {"sha256": sha256(index / "near-dup-index.npz"),
                                                            "bytes": (index / "near-dup-index.npz").stat().st_size}
    (first / "manifest.json").write_text(json.dumps(manifest, indent=2))
    second = Path(night(replica, root, "2025-02-04")["path"])
    names = sorted(p.name for p in (second / "dedupe-index").iterdir())
    assert len(names) == 2 and names[0] == "seg-0000000000-0000000400-000001"  # migrated, then the night's
    assert names[1].startswith("seg-0000000400-")
    assert run_paperset("verify", str(second)).returncode == 0

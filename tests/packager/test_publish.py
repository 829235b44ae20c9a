"""`paperset publish`: to a local folder (checked, atomic, LATEST moved); the Hub is test_hub.py."""

from __future__ import annotations

import pytest

from paperset.packager.manifest import problems
from tests.conftest import run_paperset

from .conftest import make_spool

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def test_publish_to_a_folder_and_a_hub_dry_run(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, 50)
    packaged = run_paperset("package", "--spool", str(spool), "--out", str(tmp_path / "out"), "--name", "ds")
    assert packaged.returncode == 0
    version = (tmp_path / "out" / "ds" / "LATEST").read_text().strip()
    version_dir = tmp_path / "out" / "ds" / version
    result = run_paperset("publish", str(version_dir), "--to", str(tmp_path / "mirror"))
    assert result.returncode == 0, result.stderr
    assert problems(tmp_path / "mirror" / version) == []
    assert (tmp_path / "mirror" / "LATEST").read_text().strip() == version
    again = run_paperset("publish", str(version_dir), "--to", str(tmp_path / "mirror"))
    assert again.returncode == 0
    (version_dir / "CHANGES.md").write_text("tampered")
    refused = run_paperset("publish", str(version_dir), "--to", str(tmp_path / "mirror2"))
    assert refused.returncode == 1 and "does not verify" in refused.stderr
    assert not (tmp_path / "mirror2" / version).exists()


def test_another_dataset_under_the_same_name_in_the_folder_is_refused(tmp_path, corpus_path) -> None:
    from paperset.packager.manifest import sha256

    versions = []
    for name, count in (("a", 30), ("b", 12)):
        spool = make_spool(tmp_path / f"spool-{name}", corpus_path, count)
        root = tmp_path / f"out-{name}"
        assert run_paperset("package", "--spool", str(spool), "--out", str(root), "--name", "ds").returncode == 0
        versions.append(root / "ds" / (root / "ds" / "LATEST").read_text().strip())
    first, other = versions
    assert first.name == other.name
    mirror = tmp_path / "mirror"
    assert run_paperset("publish", str(first), str(mirror)).returncode == 0
    refused = run_paperset("publish", str(other), str(mirror))
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (f"paperset publish: refused: {mirror / first.name} holds a different {first.name} "
                              f"(manifest sha256 {sha256(first / 'manifest.json')}) than {other} (manifest sha256 "
                              f"{sha256(other / 'manifest.json')})\n")
    assert sha256(mirror / first.name / "manifest.json") == sha256(first / "manifest.json")

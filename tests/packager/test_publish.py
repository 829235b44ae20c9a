"""`paperset publish`: to a local folder (checked, atomic, LATEST moved); the Hub is test_hub.py."""

from __future__ import annotations

import pytest

from packager.manifest import problems

from ..conftest import run_paperset
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

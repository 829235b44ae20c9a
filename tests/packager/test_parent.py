"""Built on a sound parent: the previous version is checked before a new one is built on it, a version
orphaned between its rename and the `LATEST` write is adopted, and `package` takes the dataset's lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paperset.packager.manifest import problems
from tests.conftest import last_json

from .conftest import make_spool, package, published

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def two_versions(tmp_path: Path, corpus_path: Path) -> tuple[Path, str, str]:
    """ROOT/ds with two versions (the second built on the first); returns the dataset and both names."""
    root = tmp_path / "out"
    first = package(make_spool(tmp_path / "s1", corpus_path, 60), root, "ds", "--json")
    second = package(make_spool(tmp_path / "s2", corpus_path, 120), root, "ds", "--json")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    return root / "ds", last_json(first.stdout)["version"], last_json(second.stdout)["version"]


def test_a_flipped_byte_in_the_parents_papers_is_refused_naming_the_file(tmp_path, corpus_path) -> None:
    root = tmp_path / "out"
    assert package(make_spool(tmp_path / "s1", corpus_path, 60), root).returncode == 0
    version = (root / "ds" / "LATEST").read_text().strip()
    part = sorted((root / "ds" / version / "papers").glob("part-*.parquet"))[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    result = package(make_spool(tmp_path / "s2", corpus_path, 120), root)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"paperset package: {part}: checksum or size differs from the parent's manifest; nothing was published")
    assert published(root) == [version, "LATEST"]


def test_a_deleted_parent_part_is_refused_naming_it(tmp_path, corpus_path) -> None:
    dataset, _, second = two_versions(tmp_path, corpus_path)
    part = sorted((dataset / second / "papers").glob("part-*.parquet"))[0]
    part.unlink()
    result = package(make_spool(tmp_path / "s3", corpus_path, 200), dataset.parent)
    assert result.returncode == 1
    assert f"{part}: missing (listed in the parent's manifest)" in result.stderr
    assert len(published(dataset.parent)) == 3


def test_latest_pointing_outside_the_dataset_is_refused(tmp_path, corpus_path) -> None:
    dataset, first, second = two_versions(tmp_path, corpus_path)
    (dataset / "LATEST").write_text("../../../../etc\n")
    result = package(make_spool(tmp_path / "s3", corpus_path, 200), dataset.parent)
    assert result.returncode == 1
    assert f"{dataset / 'LATEST'} does not name a version ('../../../../etc')" in result.stderr
    assert published(dataset.parent) == [first, second, "LATEST"]


def test_a_missing_latest_with_versions_does_not_start_over(tmp_path, corpus_path) -> None:
    dataset, first, second = two_versions(tmp_path, corpus_path)
    (dataset / "LATEST").unlink()
    result = package(make_spool(tmp_path / "s3", corpus_path, 200), dataset.parent)
    assert result.returncode == 1
    assert f"{dataset / 'LATEST'} is missing but the dataset has versions ({first}, {second})" in result.stderr
    assert published(dataset.parent) == [first, second]


def test_a_version_renamed_in_but_not_pointed_at_is_adopted(tmp_path, corpus_path) -> None:
    dataset, first, second = two_versions(tmp_path, corpus_path)
    # The state a packager killed between the rename and the LATEST write leaves.
    (dataset / "LATEST").write_text(first + "\n")
    (dataset / ".publishing").write_text(second + "\n")
    again = package(tmp_path / "s2", dataset.parent, "ds", "--json")
    assert again.returncode == 0, again.stderr
    assert last_json(again.stdout)["version"] is None  # nothing new: the orphan already holds it
    assert f"adopting {second}: it was published but LATEST still named {first}" in again.stderr
    assert (dataset / "LATEST").read_text() == second + "\n"
    assert published(dataset.parent) == [first, second, "LATEST"]
    assert not (dataset / ".publishing").exists()


def test_latest_moved_back_on_purpose_is_respected(tmp_path, corpus_path) -> None:
    dataset, first, second = two_versions(tmp_path, corpus_path)
    (dataset / "LATEST").write_text(first + "\n")  # a rollback: no version is being published
    again = package(tmp_path / "s2", dataset.parent, "ds", "--json")
    assert again.returncode == 0, again.stderr
    third = last_json(again.stdout)["version"]
    assert last_json(again.stdout)["parent"] == first and third not in (None, first, second)
    assert (dataset / "LATEST").read_text() == third + "\n"
    assert "adopting" not in again.stderr


def test_a_first_version_not_pointed_at_is_adopted_not_doubled(tmp_path, corpus_path) -> None:
    root = tmp_path / "out"
    spool = make_spool(tmp_path / "s1", corpus_path, 60)
    assert package(spool, root).returncode == 0
    version = (root / "ds" / "LATEST").read_text().strip()
    (root / "ds" / "LATEST").unlink()
    (root / "ds" / ".publishing").write_text(version + "\n")
    again = package(spool, root, "ds", "--json")
    assert again.returncode == 0, again.stderr
    assert last_json(again.stdout)["parent"] == version and last_json(again.stdout)["version"] is None
    assert published(root) == [version, "LATEST"]
    assert problems(root / "ds" / version) == []


HOLD = "import sys, time; from pathlib import Path; from paperset.packager.lock import dataset_lock\n" \
       "with dataset_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"


def test_package_exits_4_while_a_run_holds_the_dataset(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "s1", corpus_path, 20)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "out" / "ds")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        stale = tmp_path / "out" / "ds" / ".tmp-1-1"  # the run's version being built
        stale.mkdir()
        result = package(spool, tmp_path / "out")
        assert result.returncode == 4
        assert f'is being written by another paperset run ({{"pid": {holder.pid}' in result.stderr
        assert stale.is_dir()
        assert published(tmp_path / "out") == []
    finally:
        holder.kill()
        holder.wait()
    assert package(spool, tmp_path / "out").returncode == 0


def test_the_latest_pointer_is_written_by_one_helper() -> None:
    from tests.conftest import ROOT

    writers = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "paperset" / "packager").glob("*.py"))
               if "LATEST}.tmp" in p.read_text()]
    assert writers == ["paperset/packager/parent.py"]

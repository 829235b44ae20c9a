"""A full disk is one clear line ("no space left writing X ... nothing was published"), exit 1, nothing
half-made left behind and no logging tracebacks. The disk is a real small tmpfs (mounting one needs
root, which the test machine has; elsewhere these tests are skipped, saying why)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_paperset

from .conftest import make_spool

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KB tmpfs mounted on a folder of tmp_path, unmounted after."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_package_on_a_full_disk_says_so_once(tmp_path, small_disk, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, 400)
    result = run_paperset("package", "--spool", str(spool), "--out", str(small_disk), "--name", "ds")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"paperset package: no space left writing {small_disk / 'ds'}/")
    assert last.endswith("; nothing was published")
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    assert sorted(p.name for p in (small_disk / "ds").iterdir()) == [".lock"]


@pytest.mark.parametrize(("listings", "where", "nothing"), [
    # Two days fit in the run folder (spool, near-dup index segment: 168 KB); their packaging does not.
    # (The web archive off: its bytes would fill the disk before packaging, docs/archive.md.)
    (["--range", "2025-02-03:2025-02-04", "-s", "PAPERSET_ARCHIVE="], ".tmp-", "nothing was published"),
    # Every listing of the replica does not fit in the spool: the crawl stops at the first failed write.
    (["--range", "2024-12-01:2025-03-31", "--trending"], ".runs/", "nothing was published"),
])
def test_run_on_a_full_disk_stops_with_one_line(small_disk, replica, listings, where, nothing) -> None:
    result = run_paperset("run", "--base-url", replica.base_url, *listings, "--out", str(small_disk), "--name", "ds")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr[:2000]
    assert result.stderr.startswith("paperset run: ") and nothing in result.stderr
    assert f"no space left writing {small_disk / 'ds' / where}" in result.stderr
    assert not any(p.name[0].isdigit() for p in (small_disk / "ds").iterdir())

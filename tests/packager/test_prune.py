"""`paperset prune ROOT/NAME --keep N`: old versions and run folders go; LATEST's version and the newest
run stay, and the next run still folds onto LATEST."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperset.app.crawl import CrawlJob
from paperset.app.run_folder import open_run
from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.build import package
from paperset.packager.lock import dataset_lock
from paperset.packager.manifest import problems
from paperset.packager.parent import LATEST, versions
from paperset.packager.prune import plan_prune
from tests.conftest import last_json, run_paperset

from .conftest import make_spool

pytestmark = pytest.mark.slow  # real crawls or runs of `paperset`, seconds a test (docs/testing.md)


def listing(dataset: Path) -> tuple[list[str], list[str]]:
    """(visible entries of the dataset folder, its run folders)."""
    visible = sorted(p.name for p in dataset.iterdir() if not p.name.startswith("."))
    runs = sorted(p.name for p in (dataset / ".runs").iterdir()) if (dataset / ".runs").is_dir() else []
    return visible, runs


@pytest.fixture
def dataset(tmp_path: Path, corpus_path: Path) -> Path:
    """Four real versions (2026.01.01, .02, .02.2, .03) of ROOT/ds and three run folders."""
    root = tmp_path / "root"
    for n, day in enumerate(("2026-01-01", "2026-01-02", "2026-01-02", "2026-01-03"), start=1):
        spool = make_spool(tmp_path / f"spool{n}", corpus_path, 40 * n)
        package([spool], root, "ds", now=datetime.fromisoformat(f"{day}T05:00:00+00:00"), daily_kinds=daily_kinds())
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        open_run(root / "ds", CrawlJob(asked={"day": [day]}), resume=False)
    return root / "ds"


def test_keep_two_leaves_exactly_the_newest_two(dataset: Path) -> None:
    _, runs = listing(dataset)
    result = run_paperset("prune", str(dataset), "--keep", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    report = last_json(result.stdout)
    assert report["removed_versions"] == ["2026.01.01", "2026.01.02"]
    assert report["kept_versions"] == ["2026.01.02.02", "2026.01.03"]
    assert report["removed_runs"] == runs[:1] and report["kept_runs"] == runs[1:]
    assert listing(dataset) == (["2026.01.02.02", "2026.01.03", LATEST], runs[1:])
    assert (dataset / LATEST).read_text(encoding="utf-8") == "2026.01.03\n"


def test_keep_one_then_the_next_version_still_folds_onto_latest(dataset: Path, tmp_path: Path,
                                                                 corpus_path: Path) -> None:
    assert run_paperset("prune", str(dataset), "--keep", "1").returncode == 0
    _, runs = listing(dataset)
    assert listing(dataset) == (["2026.01.03", LATEST], runs) and len(runs) == 1
    assert problems(dataset / "2026.01.03") == []
    result = package([make_spool(tmp_path / "spool5", corpus_path, 200)], dataset.parent, "ds",
                     now=datetime(2026, 1, 4, 5, tzinfo=UTC), daily_kinds=daily_kinds())
    assert (result.version, result.parent) == ("2026.01.04", "2026.01.03")
    # The fold kept the parent's 160 papers and added the 40 new ones.
    assert (result.papers, result.added) == (200, 40)


def test_latest_is_kept_even_when_older(dataset: Path) -> None:
    (dataset / LATEST).write_text("2026.01.01\n", encoding="utf-8")  # rolled back by hand
    result = run_paperset("prune", str(dataset), "--keep", "1")
    assert result.returncode == 0, result.stderr
    assert listing(dataset)[0] == ["2026.01.01", "2026.01.03", LATEST]


def test_dry_run_removes_nothing(dataset: Path) -> None:
    before = listing(dataset)
    result = run_paperset("prune", str(dataset), "--keep", "1", "--dry-run", "--json")
    assert result.returncode == 0
    assert last_json(result.stdout)["removed_versions"] == ["2026.01.01", "2026.01.02", "2026.01.02.02"]
    assert listing(dataset) == before


def test_bad_arguments_and_a_locked_dataset(dataset: Path, tmp_path: Path) -> None:
    before = listing(dataset)
    zero = run_paperset("prune", str(dataset), "--keep", "0")
    assert (zero.returncode, zero.stderr) == (2, "paperset prune: --keep must be at least 1, not 0\n")
    missing = run_paperset("prune", str(tmp_path / "nope"), "--keep", "1")
    assert (missing.returncode, missing.stderr) == (2, f"paperset prune: {tmp_path / 'nope'} is not a dataset folder\n")
    with dataset_lock(dataset):
        locked = run_paperset("prune", str(dataset), "--keep", "1")
    assert locked.returncode == 4 and "being written by another paperset run" in locked.stderr
    assert listing(dataset) == before


def test_version_order_is_numeric(tmp_path: Path) -> None:
    names = ["2026.01.02.10", "2026.01.02.9", "2026.01.02", "2025.12.31"]
    for name in names:
        (tmp_path / "order" / name).mkdir(parents=True)
    assert versions(tmp_path / "order") == ["2025.12.31", "2026.01.02", "2026.01.02.9", "2026.01.02.10"]
    for name in names:
        (tmp_path / name).mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / LATEST).write_text("2026.01.02.10\n", encoding="utf-8")
    result = plan_prune(tmp_path, 2)
    assert result.removed_versions == ["2025.12.31", "2026.01.02"]
    assert result.kept_versions == ["2026.01.02.9", "2026.01.02.10"]


@pytest.mark.parametrize("keep_archives", [False, True], ids=["archives-go-with-their-run", "--keep-archives"])
def test_the_web_archives_of_a_pruned_run_go_with_it_unless_kept(dataset: Path, keep_archives: bool) -> None:
    _, runs = listing(dataset)
    folder = dataset / "archive"
    folder.mkdir()
    names = [f"{runs[0]}.warc.gz", f"{runs[0]}-2.warc.gz", f"{runs[0]}-w1.warc.gz", f"{runs[1]}.warc.gz",
             f"{runs[2]}.warc.gz", "20250101T000000000000Z.warc.gz"]  # the last one's run is long gone
    for name in names:
        (folder / name).write_bytes(b"")
    result = run_paperset("prune", str(dataset), "--keep", "2", "--json",
                          *(["--keep-archives"] if keep_archives else []))
    assert result.returncode == 0, result.stderr
    gone = [] if keep_archives else names[:3]
    assert last_json(result.stdout)["removed_archives"] == gone
    assert sorted(p.name for p in folder.iterdir()) == sorted(set(names) - set(gone))
    assert listing(dataset)[0] == ["2026.01.02.02", "2026.01.03", LATEST, "archive"]


def test_names_of_both_forms_order_by_when_they_were_made(tmp_path: Path) -> None:
    from paperset.packager.build import next_version

    old = ["2026.01.02", "2026.01.02.2", "2026.01.02.9", "2026.01.02.10"]  # an earlier release's names
    for name in old:
        (tmp_path / name).mkdir()
    (tmp_path / LATEST).write_text("2026.01.02.10\n", encoding="utf-8")
    assert next_version(tmp_path, "2026-01-02") == "2026.01.02.11"
    (tmp_path / "2026.01.02.11").mkdir()
    (tmp_path / LATEST).write_text("2026.01.02.11\n", encoding="utf-8")
    assert versions(tmp_path) == [*old, "2026.01.02.11"]
    assert next_version(tmp_path, "2026-01-03") == "2026.01.03"
    new = tmp_path / "new"
    new.mkdir()
    made = []
    for _ in range(11):
        made.append(next_version(new, "2026-01-03"))
        (new / made[-1]).mkdir()
        (new / LATEST).write_text(made[-1] + "\n", encoding="utf-8")
    assert made[:3] == ["2026.01.03", "2026.01.03.02", "2026.01.03.03"] and made[-1] == "2026.01.03.11"
    assert sorted(made) == made == versions(new)

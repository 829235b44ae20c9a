"""Pruning a dataset (`paperset prune ROOT/NAME --keep N`): remove old versions and old run folders of a
dataset, never the version `LATEST` points at (the parent the next run folds onto) nor the newest run
(which it may resume). A run's web archives (ROOT/NAME/archive/<run>*.warc.gz, paperset/spool/archives.py) go with
its run folder unless `keep_archives`: the archive of a kept run is always kept, and an archive whose run
folder is already gone is never touched by prune (delete it by hand)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from paperset.packager.build import latest
from paperset.packager.errors import BadArgument
from paperset.packager.lock import dataset_lock
from paperset.packager.parent import versions
from paperset.packager.proofs import proofs_path
from paperset.spool.archives import archive_dir, archives_of

RUNS = ".runs"


@dataclass
class PruneResult:
    """What a prune kept and removed (folder names)."""

    kept_versions: list[str] = field(default_factory=list)
    removed_versions: list[str] = field(default_factory=list)
    kept_runs: list[str] = field(default_factory=list)
    removed_runs: list[str] = field(default_factory=list)
    removed_archives: list[str] = field(default_factory=list)


def run_folders(dataset: Path) -> list[str]:
    """The dataset's run folders (named by their UTC start time), oldest first."""
    runs = dataset / RUNS
    return sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []


def plan_prune(dataset: Path, keep: int, *, keep_archives: bool = False) -> PruneResult:
    """Which folders go: all but the `keep` newest versions and the `keep` newest runs (with their web
    archives, unless `keep_archives`); `LATEST`'s version is always kept (it may be older than others after
    a roll-back)."""
    if keep < 1:
        raise BadArgument(f"--keep must be at least 1, not {keep}")
    names = versions(dataset)
    kept = set(names[-keep:])
    pointer = latest(dataset)
    if pointer is not None:
        kept.add(pointer)
    runs = run_folders(dataset)
    archives = [] if keep_archives else [p.name for run in runs[:-keep] for p in archives_of(dataset, run)]
    return PruneResult(kept_versions=[n for n in names if n in kept],
                       removed_versions=[n for n in names if n not in kept],
                       kept_runs=runs[-keep:], removed_runs=runs[:-keep], removed_archives=archives)


def prune(dataset: Path, keep: int, *, dry_run: bool = False, keep_archives: bool = False) -> PruneResult:
    """Remove what `plan_prune` says, holding the dataset's lock (a run writing it raises DatasetLocked)."""
    if keep < 1:
        raise BadArgument(f"--keep must be at least 1, not {keep}")
    if not dataset.is_dir():
        raise BadArgument(f"{dataset} is not a dataset folder")
    with dataset_lock(dataset):
        result = plan_prune(dataset, keep, keep_archives=keep_archives)
        if not dry_run:
            for name in result.removed_versions:
                shutil.rmtree(dataset / name)
                proofs_path(dataset / name).unlink(missing_ok=True)
            for name in result.removed_runs:
                shutil.rmtree(dataset / RUNS / name)
            for name in result.removed_archives:
                (archive_dir(dataset) / name).unlink()
    return result

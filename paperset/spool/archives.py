"""Where a dataset's web archives live (docs/archive.md): ROOT/NAME/archive/, one gzip WARC per crawl
process, named by its run (`<run>.warc.gz`; a resumed run's next crawl `<run>-2.warc.gz`; a worker of a
distributed run `<run>-<worker>.warc.gz`). Read by the run (its outcome's `archive`) and by prune."""

from __future__ import annotations

from pathlib import Path

ARCHIVE_DIR = "archive"
SUFFIX = ".warc.gz"


def archive_dir(dataset: Path) -> Path:
    return dataset / ARCHIVE_DIR


def run_archive(run_dir: Path) -> Path:
    """The archive a run's crawl records to: ROOT/NAME/archive/<run>.warc.gz (run_dir is ROOT/NAME/.runs/<run>)."""
    return archive_dir(run_dir.parent.parent) / f"{run_dir.name}{SUFFIX}"


def archives_of(dataset: Path, run: str) -> list[Path]:
    """Every archive the run `run` recorded (its resumed crawls and workers included): `<run>.warc.gz` first,
    then the others in name order."""
    folder = archive_dir(dataset)
    if not folder.is_dir():
        return []
    first = f"{run}{SUFFIX}"
    found = [p for p in folder.iterdir()
             if p.name == first or (p.name.startswith(f"{run}-") and p.name.endswith(SUFFIX))]
    return sorted(found, key=lambda p: (p.name != first, p.name))

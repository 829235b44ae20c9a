"""The fold's intake: a spool's entries spread over the fold's bucket files (paperset/packager/buckets.py),
with the near-duplicate links they record and the partitions they touch. The fold reads every part no one
handed it yet; a run hands it the parts its crawl has finished while the crawl still goes on
(paperset/app/prefold.py), so the spool of a large crawl is read beside the crawl, not after it. Either
way each part is taken whole, in the spool's order: the buckets, and so the version, are the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa

from paperset.packager.buckets import BucketFiles
from paperset.packager.clusters import Clusters
from paperset.packager.health import SpoolFigures
from paperset.packager.reuse import partitions_of
from paperset.spool.reader import part_tables


class Intake:
    """Bucket files in `folder` (made here), the links and the touched partitions of what was taken."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)  # never a bucket file of another run's intake
        folder.mkdir(parents=True)
        self.folder = folder
        self.buckets = BucketFiles(folder)
        self.links = Clusters()
        self.touched: set[str] = set()
        self.parts: frozenset[Path] = frozenset()  # the spool parts taken whole
        self.figures = SpoolFigures()  # the health gate's counts of what was taken

    def take(self, table: pa.Table) -> None:
        self.links.add(table)
        self.touched |= partitions_of(table.column("paper_key"))
        self.buckets.add("entries", table)
        self.figures.add(table)

    def take_part(self, part: Path, *, threads: bool = True) -> None:
        """Take a complete part (every line whole: its crawl has moved on to the next part); `threads`
        false: parsed on this thread only (beside a crawl, whose own thread keeps its core)."""
        for table in part_tables(part, threads=threads):
            self.take(table)
        self.parts |= {part}

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

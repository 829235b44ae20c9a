"""The link tables' files, partitioned so that a night touches few of them (#25): the tables of a paper's
links (`links`, `collections`, `link_totals`, `link_status`) by the first `buckets.PREFIX` characters of
`paper_id`, as papers are, and `repo_counters` by the month of `observed_at` (a night only adds rows to
its own month). A partition's rows are in `<table>/part-<hex of the partition>-00000.parquet`; a
partition the night does not touch is the parent's file, hard-linked unread (paperset/packager/share.py records
it as inherited). A parent in the earlier layout (one `part-00000.parquet` a table) is read whole."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.packager.buckets import partition_name
from paperset.packager.footers import footer
from paperset.packager.links_schema import LINK_TABLES, SORT
from paperset.packager.parts import PartWriter, ensure_part
from paperset.packager.share import link_or_copy

_PART = re.compile(r"^part-([0-9a-f]+)-\d{5}\.parquet$")
BY_MONTH = ("repo_counters",)


def partition_of(name: str, row: dict[str, Any]) -> str:
    """The partition of a row of table `name`: hex of its paper_id's prefix, or of its month (YYYYMM)."""
    return f"{row['observed_at']:%Y%m}".encode().hex() if name in BY_MONTH else partition_name(row["paper_id"])


def paper_partitions(paper_ids: Iterable[str]) -> set[str]:
    return {partition_name(p) for p in paper_ids}


class LinkParts:
    """One table's files in the parent: by partition, or `whole` (an earlier layout: read all of it)."""

    def __init__(self, parent: Path | None, name: str) -> None:
        self.name = name
        self.files: dict[str, list[Path]] = defaultdict(list)
        self.whole = False
        folder = parent / name if parent is not None else None
        for path in sorted(folder.glob("*.parquet")) if folder is not None and folder.is_dir() else []:
            match = _PART.match(path.name)
            if match is None:
                self.whole = True
            else:
                self.files[match.group(1)].append(path)
        if self.whole:
            self.files = {"": sorted(folder.glob("*.parquet"))} if folder is not None else {}

    def read(self, partitions: set[str] | None) -> list[dict[str, Any]]:
        """The rows of the given partitions (all of them for None, or when the parent is `whole`)."""
        paths = [p for part, paths in sorted(self.files.items())
                 if self.whole or partitions is None or part in partitions for p in paths]
        if not paths:
            return []
        return pq.read_table(paths, schema=LINK_TABLES[self.name]).to_pylist()

    def write(self, out: Path, rows: list[dict[str, Any]], touched: set[str] | None) -> int:
        """Write the night's rows of the touched partitions (every partition for None or a `whole`
        parent), link the parent's other partitions; the table's row count."""
        folder = out / self.name
        folder.mkdir(parents=True, exist_ok=True)
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            grouped[partition_of(self.name, row)].append(row)
        total = len(rows)
        for part, part_rows in sorted(grouped.items()):
            write_rows(folder, self.name, part_rows, part)
        if not self.whole and touched is not None:
            for part, paths in sorted(self.files.items()):
                if part in touched or part in grouped:  # a touched partition's rows are all in `rows`, if any
                    continue
                for path in paths:
                    if not link_or_copy(path, folder / path.name):
                        shutil.copyfile(path, folder / path.name)
                    total += footer(path).rows
        ensure_part(folder, LINK_TABLES[self.name])
        return total


def write_rows(folder: Path, name: str, rows: list[dict[str, Any]], stem: str = "") -> None:
    """Rows of table `name` as one sorted file (`part-<stem>-00000.parquet`)."""
    schema = LINK_TABLES[name]
    table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    if rows:
        table = table.sort_by([(column, "ascending") for column in SORT[name]])
    writer = PartWriter(folder, schema, stem=stem)
    writer.write(table)
    writer.close()


def fold_table(parent: Path | None, out: Path, name: str, touched: set[str] | None,
               fold: Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], int]],
               read_all: bool = False) -> tuple[int, int]:
    """Read the parent's touched partitions of `name` (None: all; `read_all`: every partition, the
    night's values compared with the latest of each key), fold them (`fold` gives the rows and how many
    changed) and write the touched ones beside the parent's other partitions: (rows, changed)."""
    parts = LinkParts(parent, name)
    rows, changed = fold(parts.read(None if read_all else touched))
    if read_all and touched is not None and not parts.whole:
        rows = [row for row in rows if partition_of(name, row) in touched]
    return parts.write(out, rows, touched), changed

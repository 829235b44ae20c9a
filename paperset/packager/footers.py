"""Parquet footers read once per process. One night asks a file's footer in several places (which of the
parent's partitions may change or hold near-duplicate links, the parent's row counts, the card's sizes,
verify), and a partition kept from the parent is the same inode in both versions (a hard link): each
footer is read once and kept as the few facts asked of it (not the whole metadata: ~100 KB a file),
keyed by the file's identity (device, inode, size, modification time), so a file written again is read
again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq


@dataclass(frozen=True)
class Footer:
    """What the packager reads from a Parquet footer: rows, data bytes (uncompressed, the card's
    `num_bytes`), the top-level columns that may hold a true value (booleans, by their statistics: a row
    group without statistics may) and those null in every row (by their null counts)."""

    rows: int
    data_bytes: int
    may_be_true: frozenset[str]
    all_null: frozenset[str]


_FOOTERS: dict[tuple[int, int, int, int], Footer] = {}
KEPT = 65536  # footers held at most; past it the cache starts again


def _read(path: Path) -> Footer:
    meta = pq.read_metadata(path)
    # Top-level columns only: the nested ones' leaves (authors, user references: most of a file's columns)
    # are never asked about, and reading each one's statistics in each row group was most of a footer's cost.
    columns = [(n, meta.schema.column(n)) for n in range(meta.num_columns)]
    names = {n: column.path for n, column in columns if "." not in column.path}
    booleans = {n for n, column in columns if n in names and column.physical_type == "BOOLEAN"}
    may_be_true: set[str] = set()
    some_value: set[str] = set()
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for n, name in names.items():
            stats = group.column(n).statistics
            if stats is None or stats.null_count != group.num_rows:
                some_value.add(name)
            if n in booleans and (stats is None or not stats.has_min_max or stats.max):
                may_be_true.add(name)
    return Footer(meta.num_rows, sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups)),
                  frozenset(may_be_true), frozenset(set(names.values()) - some_value))


def footer(path: Path) -> Footer:
    """The file's footer facts (OSError if it cannot be read, pyarrow's error if it is not Parquet)."""
    st = path.stat()
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    found = _FOOTERS.get(key)
    if found is None:
        found = _read(path)
        if len(_FOOTERS) >= KEPT:
            _FOOTERS.clear()
        _FOOTERS[key] = found
    return found

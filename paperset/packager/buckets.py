"""The fold's temporary buckets: entries and parent rows range-partitioned by `paper_key` into Arrow IPC
files, large buckets split again by key range, so that each unit folded holds about UNIT_ROWS rows
(Arrow's memory pool: paperset/spool/arrow_memory.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PREFIX = 4


def partition_name(text: str) -> str:
    """The partition of a key (its first PREFIX characters are taken) or of a key's prefix: the hex of
    its UTF-8, so that file names sort as the keys do. The one rule for every table's partitions."""
    return text[:PREFIX].encode().hex()

# Most rows (new entries, parent papers and parent observations together) folded at once.
UNIT_ROWS = 8_192


def _groups(table: pa.Table, labels: pa.Array | pa.ChunkedArray) -> Iterator[tuple[Any, pa.Table]]:
    """The table's rows by label (one per row), in label order, each label's rows in their order: one
    stable sort and slices (a filter per label scanned the whole table again for each). Rows already in
    label order (a parent's partition, read in key order) are sliced as they are, not copied."""
    order = pc.sort_indices(labels)  # stable: a label's rows keep their order
    if not np.array_equal(order.to_numpy(), np.arange(len(order))):
        table, labels = table.take(order), labels.take(order)
    counts = pc.value_counts(labels)  # in order of first appearance: the sorted order
    start = 0
    for value, rows in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
        yield value, table.slice(start, rows)
        start += rows


def _buckets(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The table's rows by key prefix."""
    return _groups(table, pc.utf8_slice_codeunits(table.column("paper_key"), 0, PREFIX))


def _boundaries(keys: pa.ChunkedArray, limit: int) -> list[str]:
    """Keys that cut `keys` (in any order) into key ranges of about `limit` rows; all rows of one key
    fall in one range."""
    ordered = pc.take(keys, pc.sort_indices(keys))
    return pc.unique(pc.take(ordered, pa.array(range(limit, len(ordered), limit), pa.int64()))).to_pylist()


def _ranges(keys: pa.Array, bounds: list[str]) -> pa.Array:
    """Per key: the number of boundaries at or below it, i.e. its key range."""
    slot = pa.repeat(pa.scalar(0, pa.int32()), len(keys))
    for bound in bounds:
        slot = pc.add(slot, pc.greater_equal(keys, bound).cast(pa.int32()))
    return slot


class BucketFiles:
    """Per-prefix Arrow IPC files in a temporary folder: one writer per (kind, bucket). Not Parquet:
    decoding and encoding pages allocate from Arrow's default pool behind our back, and these files
    are read back once. `units` gives the buckets to fold in key order, splitting the large ones."""

    KINDS = ("entries", "papers", "obs")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[tuple[str, str], pa.ipc.RecordBatchFileWriter] = {}
        self.rows: Counter[str] = Counter()

    def _path(self, kind: str, name: str) -> Path:
        return self.folder / f"{kind}-{name}.arrow"

    def _write(self, kind: str, name: str, table: pa.Table) -> None:
        if (kind, name) not in self.writers:
            self.writers[kind, name] = pa.ipc.new_file(str(self._path(kind, name)), table.schema)
        self.writers[kind, name].write_table(table)
        self.rows[name] += table.num_rows

    def add(self, kind: str, table: pa.Table) -> None:
        for prefix, part in _buckets(table):
            self._write(kind, partition_name(prefix), part)

    def _close(self) -> list[str]:
        for writer in self.writers.values():
            writer.close()
        names = sorted({name for _, name in self.writers})  # hex of UTF-8 sorts as the keys do
        self.writers = {}
        return names

    def _batches(self, kind: str, name: str) -> Iterator[pa.RecordBatch]:
        """The file's batches, each read into memory as one buffer."""
        path = self._path(kind, name)
        if path.exists():
            with pa.OSFile(str(path)) as source:
                reader = pa.ipc.open_file(source)
                for n in range(reader.num_record_batches):
                    yield reader.get_batch(n)

    def _keys(self, kind: str, name: str) -> list[pa.Array]:
        """The file's paper_key column, copied out of a memory map: only its pages are read."""
        path = self._path(kind, name)
        if not path.exists():
            return []
        reader = pa.ipc.open_file(pa.memory_map(str(path)))
        index = reader.schema.get_field_index("paper_key")
        return [pa.concat_arrays([reader.get_batch(n).column(index)
                                  for n in range(reader.num_record_batches)])]

    def split(self, name: str, limit: int) -> list[str]:
        """Range-partition a bucket's files into sub-buckets of about `limit` rows (in key order)."""
        keys = [chunk for kind in self.KINDS for chunk in self._keys(kind, name)]
        bounds = _boundaries(pa.chunked_array(keys, pa.string()), limit)
        for kind in self.KINDS:
            for table in self._tables(kind, name, limit):
                for n, rows in _groups(table, _ranges(table.column("paper_key"), bounds)):
                    self._write(kind, f"{name}-{n:05d}", rows.combine_chunks())
            self._path(kind, name).unlink(missing_ok=True)
        return self._close()

    def _tables(self, kind: str, name: str, rows: int) -> Iterator[pa.Table]:
        """The file's batches gathered into tables of at least `rows` rows (the last one smaller)."""
        group: list[pa.RecordBatch] = []
        for batch in self._batches(kind, name):
            group.append(batch)
            if sum(b.num_rows for b in group) >= rows:
                yield pa.Table.from_batches(group)
                group = []
        if group:
            yield pa.Table.from_batches(group)

    def units(self, limit: int) -> Iterator[str]:
        """Bucket names in key order, each of at most about `limit` rows (but for single keys with more)."""
        for name in self._close():
            yield from [name] if self.rows[name] <= limit else self.split(name, limit)

    def read(self, kind: str, name: str) -> pa.Table | None:
        batches = list(self._batches(kind, name))
        return pa.Table.from_batches(batches) if batches else None

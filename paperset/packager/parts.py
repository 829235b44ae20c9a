"""The snapshot's Parquet parts: files of about a target size, zstd, few large row groups, data pages cut
by content (content-defined chunking), so a daily version shares almost all its bytes with its parent."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Data page boundaries follow the content (pyarrow's rolling hash, 64-256 KiB before encoding), not
# byte offsets: rows added or changed rewrite the pages around them only, so the Hub's chunk store
# (Xet) keeps, and an upload sends, only those. Row groups stay large (ROW_GROUP rows) since each
# row-group boundary also starts new pages. bench/cdc.py measures it.
CDC: bool | dict[str, int] = {"min_chunk_size": 64 * 1024, "max_chunk_size": 256 * 1024}
ROW_GROUP = 50_000
# Dictionary encoding only where values repeat: a dictionary page holds every distinct value of the row
# group, so on a column of unique values (keys, titles, abstracts) any new row rewrites it whole.
DICTIONARY = ["population", "cluster_relation", "version", "github_stars", "organization", "provisional",
              "listing_kind", "listing_key",
              "fetch_path", "authors.list.element", "ai_keywords.list.element", "listings.list.element.kind",
              "listings.list.element.key"]


class PartWriter:
    """Writes a table folder as `part-NNNNN.parquet` files (`part-STEM-NNNNN.parquet` with a `stem`) of
    about `target_bytes` (in-memory size),
    zstd, row groups of `row_group` rows (the last one smaller): bucket tables are buffered until a
    row group is full, so readers see few, large row groups whatever the bucketing; with `group_per_write`
    each table written is a row group of its own (at most `row_group` rows), written at once and never
    buffered: for callers that write tables of thousands of rows (the fold's units). `cdc`:
    content-defined chunking (default CDC)."""

    def __init__(self, folder: Path, schema: pa.Schema, *, target_bytes: int = 256 * 1024 * 1024,
                 row_group: int = ROW_GROUP, cdc: bool | dict[str, int] | None = None, stem: str = "",
                 group_per_write: bool = False) -> None:
        self.folder, self.schema, self.target, self.row_group = folder, schema, target_bytes, row_group
        self.group_per_write = group_per_write
        self.stem = f"{stem}-" if stem else ""
        self.cdc = CDC if cdc is None else cdc
        folder.mkdir(parents=True, exist_ok=True)
        self.writer: pq.ParquetWriter | None = None
        self.parts = 0
        self.written = 0
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def _emit(self, table: pa.Table) -> None:
        if self.writer is None or self.written >= self.target:
            if self.writer is not None:
                self.writer.close()
            self.writer = pq.ParquetWriter(self.folder / f"part-{self.stem}{self.parts:05d}.parquet", self.schema,
                                           compression="zstd", write_statistics=True,
                                           use_content_defined_chunking=self.cdc,
                                           use_dictionary=DICTIONARY if self.cdc else True)
            self.parts += 1
            self.written = 0
        self.writer.write_table(table, row_group_size=self.row_group)
        self.written += table.nbytes

    def write(self, table: pa.Table) -> None:
        if self.group_per_write:
            if table.num_rows:
                self._emit(table if self.cdc else table.combine_chunks())
            return
        self.pending.append(table)
        self.pending_rows += table.num_rows
        while self.pending_rows >= self.row_group:
            merged = pa.concat_tables(self.pending)
            # Copies (the writer's bytes depend on the chunking), made before writing so that the
            # buffered tables are freed first and the rest does not keep them alive.
            head = merged.slice(0, self.row_group).combine_chunks()
            rest = merged.slice(self.row_group).combine_chunks()
            del merged
            self.pending, self.pending_rows = [rest], rest.num_rows
            self._emit(head)

    def close(self) -> None:
        if self.pending_rows or self.parts == 0:
            table = pa.concat_tables(self.pending) if self.pending else self.schema.empty_table()
            self.pending = []
            # With content-defined chunking the bytes do not depend on the chunking (tests/packager/
            # test_parts_chunking.py): the buffered tables are written as they are, not copied into one
            # (a refolded month at 1M papers was ~2x its size at this point: a night's peak memory).
            self._emit(table if self.cdc else table.combine_chunks())
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def partition_of(unit: str) -> str:
    """The partition a fold unit belongs to: its bucket, the hex of the first `buckets.PREFIX` characters
    of `paper_key` (UTF-8), without the sub-range number a split bucket's units carry."""
    return unit.split("-")[0]


class PartitionWriter:
    """A table folder written partition by partition: `part-PARTITION-NNNNN.parquet`, one PartWriter per
    partition, fed in partition order (each partition's rows sorted, names sorting as the keys do), so
    that a row changed in one partition rewrites that partition's files only. `files` names every file
    written, by partition. Each table written (a fold unit, about buckets.UNIT_ROWS rows) is a row group:
    a refolded partition is never held whole (an arXiv month at 1M papers was ~40 MB of a night's peak)."""

    def __init__(self, folder: Path, schema: pa.Schema, **options: object) -> None:
        self.folder, self.schema, self.options = folder, schema, options
        folder.mkdir(parents=True, exist_ok=True)
        self.partition: str | None = None
        self.writer: PartWriter | None = None
        self.files: dict[str, list[str]] = {}

    def _finish(self) -> None:
        if self.writer is not None and self.partition is not None:
            self.writer.close()
            self.files[self.partition] = [f"part-{self.partition}-{n:05d}.parquet" for n in range(self.writer.parts)]
        self.writer = None

    def write(self, partition: str, table: pa.Table) -> None:
        if partition != self.partition:
            self._finish()
            self.partition = partition
            self.writer = PartWriter(self.folder, self.schema, stem=partition, group_per_write=True,
                                     **self.options)  # type: ignore[arg-type]
        assert self.writer is not None
        self.writer.write(table)

    def close(self) -> None:
        """Finish the last partition."""
        self._finish()


def ensure_part(folder: Path, schema: pa.Schema) -> None:
    """A table folder without any file gets one empty `part-00000.parquet`: a table of no rows still reads."""
    if not any(folder.glob("*.parquet")):
        PartWriter(folder, schema).close()

"""The snapshot's Parquet parts: files of about a target size, zstd, few large row groups."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class PartWriter:
    """Writes a table folder as `part-NNNNN.parquet` files of about `target_bytes` (in-memory size),
    zstd, row groups of `row_group` rows (the last one smaller): bucket tables are buffered until a
    row group is full, so readers see few, large row groups whatever the bucketing."""

    def __init__(self, folder: Path, schema: pa.Schema, *, target_bytes: int = 256 * 1024 * 1024,
                 row_group: int = 50_000) -> None:
        self.folder, self.schema, self.target, self.row_group = folder, schema, target_bytes, row_group
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
            self.writer = pq.ParquetWriter(self.folder / f"part-{self.parts:05d}.parquet", self.schema,
                                           compression="zstd", write_statistics=True)
            self.parts += 1
            self.written = 0
        self.writer.write_table(table, row_group_size=self.row_group)
        self.written += table.nbytes

    def write(self, table: pa.Table) -> None:
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
            self._emit(table.combine_chunks())
        if self.writer is not None:
            self.writer.close()
            self.writer = None

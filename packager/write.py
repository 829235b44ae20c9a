"""Write a table as Parquet parts: explicit schema, zstd, bounded row groups, files split by size."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 100_000
TARGET_FILE_BYTES = 256 * 1024 * 1024


def write_parts(table: pa.Table, folder: Path, *, target_bytes: int = TARGET_FILE_BYTES) -> list[Path]:
    """`folder/part-00000.parquet`, ... The rows per file follow from the table's in-memory size so
    files stay near `target_bytes`; row groups hold at most ROW_GROUP_ROWS rows (far under 128 MB).
    Same rows in, same bytes out."""
    folder.mkdir(parents=True, exist_ok=True)
    per_row = max(table.nbytes / max(table.num_rows, 1), 1)
    rows_per_file = max(int(target_bytes / per_row), ROW_GROUP_ROWS)
    paths = []
    for n, start in enumerate(range(0, max(table.num_rows, 1), rows_per_file)):
        path = folder / f"part-{n:05d}.parquet"
        pq.write_table(table.slice(start, rows_per_file), path, compression="zstd", row_group_size=ROW_GROUP_ROWS,
                       write_statistics=True, store_schema=True)
        paths.append(path)
    return paths


def read_table(folder: Path, schema: pa.Schema) -> pa.Table | None:
    """All parts of a table folder with the given schema, or None when the folder does not exist."""
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return None
    return pa.concat_tables([pq.read_table(p, schema=schema) for p in parts])

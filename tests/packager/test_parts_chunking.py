"""paperset/packager/parts.py writes a partition's last row group from its buffered unit tables without
copying them into one when content-defined chunking is on: the bytes must be those of the combined table.
This holds the writer (pyarrow's, pinned) to that: a table cut into chunks anywhere writes the same file."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.parts import PartWriter
from paperset.packager.tables import OBSERVATIONS, PAPERS
from tests.conftest import corpus_spool


def written(folder: Path, schema: pa.Schema, tables: list[pa.Table], cdc: object = None) -> str:
    writer = PartWriter(folder, schema, cdc=cdc)  # type: ignore[arg-type]
    for table in tables:
        writer.write(table)
    writer.close()
    [path] = sorted(folder.glob("*.parquet"))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_partition_written_from_many_unit_tables_is_the_one_written_from_one(tmp_path, corpus_path) -> None:
    from paperset.packager.build import package

    result = package([corpus_spool(tmp_path / "spool", corpus_path, 400)], tmp_path / "out", "ds",
                     daily_kinds=daily_kinds())
    version = Path(result.path)
    rng = random.Random(7)
    for table_name, schema in (("papers", PAPERS), ("observations", OBSERVATIONS)):
        whole = pa.concat_tables(pq.read_table(p) for p in sorted((version / table_name).glob("*.parquet")))
        whole = whole.cast(schema).combine_chunks()
        n = whole.num_rows
        for attempt in range(3):
            cuts = sorted(rng.sample(range(1, n), 6))
            units = [whole.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
            one = written(tmp_path / f"{table_name}-{attempt}-one", schema, [whole])
            many = written(tmp_path / f"{table_name}-{attempt}-many", schema, units)
            assert many == one, (table_name, cuts)

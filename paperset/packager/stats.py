"""The figures a version's card gives, gathered while folding (unit by unit) and from the written Parquet
(column by column): papers per Daily Papers day, by population, by listing kind; each column's fill rate
and distinct count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


@dataclass
class FoldStats:
    """What the card and the result need, gathered bucket by bucket."""

    papers: int = 0
    observations: int = 0
    new_observations: int = 0
    provisional: int = 0
    not_provisional: int = 0
    clustered: int = 0
    # papers per daily_date (each paper once); papers without one, by population
    per_day: Counter[str] = field(default_factory=Counter)
    undated: Counter[str] = field(default_factory=Counter)
    populations: Counter[str] = field(default_factory=Counter)
    keyless: int = 0
    relations: Counter[str] = field(default_factory=Counter)
    # papers seen at least once on a listing of each kind; observations by kind
    listing_kinds: Counter[str] = field(default_factory=Counter)
    observation_kinds: Counter[str] = field(default_factory=Counter)
    sample: list[dict[str, Any]] = field(default_factory=list)
    # the figures above by partition (paperset/packager/reuse.py), for the manifest: a later version that does not
    # refold a partition takes them from there
    partitions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _counts(array: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    return {str(item["values"]): item["counts"] for item in pc.value_counts(array).to_pylist()
            if item["values"] is not None}


def count(stats: FoldStats, papers: pa.Table, observations: pa.Table) -> None:
    """Add a unit's papers and observations to the card's figures."""
    stats.papers += papers.num_rows
    stats.observations += observations.num_rows
    stats.provisional += pc.sum(papers.column("provisional").cast(pa.int64())).as_py() or 0
    stats.not_provisional += pc.sum(pc.invert(papers.column("provisional")).cast(pa.int64())).as_py() or 0
    stats.clustered += papers.num_rows - papers.column("cluster_id").null_count
    stats.keyless += pc.sum(papers.column("keyless").cast(pa.int64())).as_py() or 0
    stats.populations.update(_counts(papers.column("population")))
    stats.relations.update(_counts(papers.column("cluster_relation")))
    stats.per_day.update(_counts(pc.cast(papers.column("daily_date"), pa.string())))
    undated = papers.filter(pc.is_null(papers.column("daily_date")))
    stats.undated.update(_counts(undated.column("population")))
    listings = papers.column("listings").combine_chunks()
    kinds = pa.table({"row": pc.list_parent_indices(listings),
                      "kind": pc.struct_field(pc.list_flatten(listings), "kind")})
    stats.listing_kinds.update(_counts(kinds.group_by(["row", "kind"], use_threads=False).aggregate([])
                                       .column("kind")))
    stats.observation_kinds.update(_counts(observations.column("listing_kind")))
    if len(stats.sample) < 10:
        stats.sample += papers.select(["paper_key", "title"]).slice(0, 10 - len(stats.sample)).to_pylist()


# Most bytes of distinct values kept per column while counting them: past it the card gives a lower bound
# (at least N), so that a column of unique long texts (abstracts) does not cost its size in memory.
DISTINCT_BYTES = 64 << 20
BATCH_ROWS = 8_192
MERGE_BYTES = 1 << 20  # unique values gathered before the first merge


def _values(column: pa.Array, kind: pa.DataType) -> pa.Array:
    """What a column's distinct count counts: its values; a list's elements; the listings' keys; a struct's
    first field (a user's or an organization's id)."""
    if pa.types.is_struct(kind):
        return pc.struct_field(column, kind.field(0).name)
    if not pa.types.is_list(kind):
        return column
    values = pc.list_flatten(column)
    if pa.types.is_struct(kind.value_type):
        inner = kind.value_type
        values = pc.struct_field(values, "key" if inner.get_field_index("key") >= 0 else inner.field(0).name)
    return values


class _Distinct:
    """Distinct values gathered batch by batch: each batch's unique values kept aside and merged (unique
    again) only when they have grown to the size of the merged set, so each value is re-hashed a few
    times, not once per batch; stops growing past DISTINCT_BYTES (`capped`)."""

    def __init__(self) -> None:
        self.merged: pa.Array | None = None
        self.pending: list[pa.Array] = []
        self.capped = False

    def add(self, values: pa.Array) -> None:
        if self.capped:
            return
        self.pending.append(pc.unique(pc.drop_null(values)))
        if sum(a.nbytes for a in self.pending) >= max(self.merged.nbytes if self.merged is not None else 0,
                                                       MERGE_BYTES):
            self.merge()
            self.capped = self.merged is not None and self.merged.nbytes > DISTINCT_BYTES

    def merge(self) -> None:
        arrays = ([self.merged] if self.merged is not None else []) + self.pending
        if arrays:
            self.merged = pc.unique(pa.concat_arrays([a.cast(arrays[0].type) for a in arrays]))
        self.pending = []

    def count(self) -> int:
        self.merge()
        return len(self.merged) if self.merged is not None else 0


def _column(parts: list[Path], f: pa.Field) -> dict[str, Any]:
    """One column's rows, rows filled (not null; a list: not empty) and distinct values, batch by batch."""
    rows = filled = 0
    distinct = _Distinct()
    for part in parts:
        for batch in pq.ParquetFile(part).iter_batches(batch_size=BATCH_ROWS, columns=[f.name]):
            column = batch.column(0)
            rows += len(column)
            if pa.types.is_list(f.type):
                filled += int(pc.sum(pc.greater(pc.fill_null(pc.list_value_length(column), 0), 0)).as_py() or 0)
            else:
                filled += len(column) - column.null_count
            distinct.add(_values(column, f.type))
    return {"name": f.name, "rows": rows, "filled": filled, "distinct": distinct.count(), "at_least": distinct.capped}


def column_stats(folder: Path, schema: pa.Schema) -> list[dict[str, Any]]:
    """Per column of a written table: rows, rows filled and distinct values (`at_least`: a lower bound, the
    distinct values passed DISTINCT_BYTES), read one column at a time, in batches."""
    parts = sorted(folder.glob("*.parquet"))
    return [_column(parts, f) for f in schema]

"""The figures a version's card gives, gathered while folding, unit by unit: papers per Daily Papers day,
by population, by listing kind (kept per partition in the manifest); each column's rows, fill rate and
distinct values (kept per partition in the version's `stats/part-<partition>.json`, merged for the card:
distinct counts by paperset/packager/sketch.py, exact for `paper_key`). A night reads none of its parent's data
for them: the figures of the partitions it does not refold are the parent's."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from paperset.packager.errors import PackagerError
from paperset.packager.sketch import Sketch, hashes


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
    # each column's figures (table -> column -> figure), of one partition: its stats/ sidecar
    columns: dict[str, dict[str, ColumnFigure]] = field(default_factory=dict)


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
    add_figures(stats.columns, "papers", column_figures(papers))
    add_figures(stats.columns, "observations", column_figures(observations))
    if len(stats.sample) < 10:
        stats.sample += papers.select(["paper_key", "title"]).slice(0, 10 - len(stats.sample)).to_pylist()


SIDECAR = "stats"  # the version's folder of per-partition column figures: stats/part-<partition>.json
# Columns whose values no two partitions share (a partition is a paper_key prefix; a unit a key range; a
# paper's id is its key): their distinct counts add up exactly.
DISJOINT = ("paper_key", "paper_id")


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


@dataclass
class ColumnFigure:
    """One column in some units: rows, rows filled (not null; a list: not empty), its distinct values
    (`count` where they add up across units, else a `sketch`)."""

    rows: int = 0
    filled: int = 0
    count: int = 0
    sketch: Sketch | None = None

    def merge(self, other: ColumnFigure) -> None:
        self.rows, self.filled = self.rows + other.rows, self.filled + other.filled
        self.count += other.count
        if other.sketch is not None:
            if self.sketch is None:
                self.sketch = Sketch()
            self.sketch.merge(other.sketch)

    @classmethod
    def merged(cls, figures: list[ColumnFigure]) -> ColumnFigure:
        """The figures of many units at once (as merging them one by one: Sketch.merged)."""
        sketches = [f.sketch for f in figures if f.sketch is not None]
        return cls(sum(f.rows for f in figures), sum(f.filled for f in figures), sum(f.count for f in figures),
                   Sketch.merged(sketches) if sketches else None)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "filled": self.filled,
                **({"count": self.count} if self.sketch is None else self.sketch.to_json())}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> ColumnFigure:
        sketch = Sketch.from_json(record) if "count" not in record else None
        return cls(record["rows"], record["filled"], record.get("count", 0), sketch)


def column_figures(table: pa.Table) -> dict[str, ColumnFigure]:
    """A unit's figures of every column of `table`."""
    out = {}
    for f in table.schema:
        column = table.column(f.name).combine_chunks()
        if pa.types.is_list(f.type):
            filled = int(pc.sum(pc.greater(pc.fill_null(pc.list_value_length(column), 0), 0)).as_py() or 0)
        else:
            filled = len(column) - column.null_count
        figure = ColumnFigure(len(column), filled)
        if f.name in DISJOINT:
            figure.count = len(pc.unique(pc.drop_null(column)))
        else:
            figure.sketch = Sketch(exact=hashes(_values(column, f.type)))
        out[f.name] = figure
    return out


def add_figures(into: dict[str, dict[str, ColumnFigure]], table: str, figures: dict[str, ColumnFigure]) -> None:
    for name, figure in figures.items():
        into.setdefault(table, {}).setdefault(name, ColumnFigure()).merge(figure)


def write_sidecar(folder: Path, partition: str, columns: dict[str, dict[str, ColumnFigure]]) -> None:
    """A partition's column figures, as `stats/part-<partition>.json` of the version."""
    folder.mkdir(parents=True, exist_ok=True)
    record = {table: {name: figure.to_json() for name, figure in figures.items()}
              for table, figures in sorted(columns.items())}
    (folder / f"part-{partition}.json").write_text(json.dumps(record, sort_keys=True), encoding="utf-8")


def column_stats(version: Path, table: str, schema: pa.Schema, rows: int | None = None) -> list[dict[str, Any]]:
    """Per column of a written table, from its partitions' figures (stats/): rows, rows filled and
    distinct values (`exact` false: a HyperLogLog estimate, paperset/packager/sketch.py). `rows`: the table's
    rows as written; figures that do not cover exactly those are a PackagerError (the version is not made)."""
    figures: dict[str, list[ColumnFigure]] = {f.name: [] for f in schema}
    for path in sorted((version / SIDECAR).glob("part-*.json")):
        for name, record in json.loads(path.read_text(encoding="utf-8")).get(table, {}).items():
            if name in figures:
                figures[name].append(ColumnFigure.from_json(record))
    merged = {name: ColumnFigure.merged(found) for name, found in figures.items()}
    short = [f.name for f in schema if rows is not None and merged[f.name].rows != rows]
    if short:  # a partition without its figures (or figures of one that is gone): never a card that undercounts
        raise PackagerError(f"{version / SIDECAR}: the figures of {table}.{short[0]} cover "
                            f"{merged[short[0]].rows} rows of the {rows} written")
    out = []
    for f in schema:
        figure = merged[f.name]
        # Counted values and a sketch's (a parent's sidecar may sketch what is now counted) add up: the
        # partitions they come from share no value of a counted column.
        sketched, exact = figure.sketch.count() if figure.sketch is not None else (0, True)
        distinct = figure.count + sketched
        if not exact and not pa.types.is_list(f.type):  # an estimate never above the values there are
            distinct = min(distinct, figure.filled)
        out.append({"name": f.name, "rows": figure.rows, "filled": figure.filled, "distinct": distinct,
                    "exact": exact})
    return out

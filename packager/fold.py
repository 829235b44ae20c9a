"""Fold spools into the snapshot's tables in bounded memory, with Arrow: entries are read by pyarrow's
JSON reader, range-partitioned by the first 4 characters of `paper_key` into temporary Arrow IPC
buckets (with the parent version's rows), and each bucket is aggregated and written in turn. A bucket
with more than `UNIT_ROWS` rows is range-partitioned again by `paper_key` (boundaries from its own keys)
before it is folded, so memory follows `UNIT_ROWS`, not the dataset (a prefix such as an arXiv month
grows with it). Units in key order give rows sorted by `paper_key`. Nothing that grows with the
dataset is kept in Python: changes go to files (`ChangeLog`). The buckets take about as much disk as
the spools."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from packager.buckets import UNIT_ROWS, BucketFiles, arrow_pool
from packager.changes import ChangeLog, compare_tables
from packager.clusters import Clusters
from packager.clusters import apply as apply_clusters
from packager.parts import PartWriter
from packager.schema import (
    LISTING,
    OBSERVATION_IDENTITY,
    OBSERVATIONS,
    OBSERVATIONS_SORT,
    PAPERS,
    PAPERS_SORT,
    TS,
    conform,
)
from spool.reader import spool_tables
from spool.schema import ENTRY

# The entry fields a paper row takes from its sightings (its last non-null value of each): the papers
# schema's fields that are entry fields, the key aside.
DESCRIPTIVE = tuple(n for n in PAPERS.names if n in ENTRY.names and n != "paper_key")


@dataclass
class FoldStats:
    """What the card and the result need, gathered bucket by bucket."""

    papers: int = 0
    observations: int = 0
    new_observations: int = 0
    provisional: int = 0
    clustered: int = 0
    per_day: Counter[str] = field(default_factory=Counter)
    sample: list[dict[str, Any]] = field(default_factory=list)


def _first_sightings(table: pa.Table) -> pa.Table:
    """Listing slots blanked but at the earliest sighting of each place (kind, key, rank) per paper."""
    firsts = table.group_by(["paper_key", "l_kind", "l_key", "l_rank"], use_threads=False).aggregate(
        [("_row", "min")]).column("_row_min")
    keep = pc.is_in(table.column("_row"), value_set=firsts)
    for name in ("l_kind", "l_key", "l_rank", "l_seen"):
        column = table.column(name)
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.if_else(keep, column, pa.scalar(None, column.type)))
    return table


def _listings(grouped: pa.Table) -> pa.ListArray:
    """The grouped listing slots as one list of LISTING structs per paper, empty slots dropped (parent
    rows contribute one null slot when they had none)."""
    kinds = grouped.column("l_kind_list").combine_chunks()
    parts = [pc.list_flatten(grouped.column(f"l_{n}_list").combine_chunks())
             for n in ("kind", "key", "rank", "seen")]
    items = pa.StructArray.from_arrays(parts, fields=list(LISTING))
    valid = pc.is_valid(items.field("kind"))
    # Each paper's offset among the kept items: how many kept items come before its first slot.
    before = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(valid.cast(pa.int32()))])
    offsets = pc.take(before, pc.subtract(kinds.offsets, kinds.offsets[0]))
    return pa.ListArray.from_arrays(offsets, items.filter(valid), type=pa.list_(LISTING))


def _aggregate(table: pa.Table, first: str, last: str) -> pa.Table:
    """Rows sorted by (paper_key, time) folded to one per paper_key: `DESCRIPTIVE` fields take their
    last non-null value, `first`/`last` the min and max time, `listings` every listing in order.
    `table` has the DESCRIPTIVE columns, the two time columns, and `l_kind`, `l_key`, `l_rank`,
    `l_seen` (one listing per row, possibly null)."""
    table = _first_sightings(table.append_column("_row", pa.array(range(table.num_rows), pa.int64())))
    # The last non-null value is taken by its row: hash_last would copy long texts (abstracts) into
    # per-group buffers several times their size.
    rows = table.column("_row")
    no_row = pa.scalar(None, pa.int64())
    for n in DESCRIPTIVE:
        table = table.append_column(f"_at_{n}", pc.if_else(pc.is_valid(table.column(n)), rows, no_row))
    grouped = table.group_by("paper_key", use_threads=False).aggregate(
        [*[(f"_at_{n}", "max") for n in DESCRIPTIVE], (first, "min"), (last, "max"),
         *[(n, "list") for n in ("l_kind", "l_key", "l_rank", "l_seen")]])
    out = {"paper_key": grouped.column("paper_key")}
    for n in DESCRIPTIVE:
        out[n] = pc.take(table.column(n), grouped.column(f"_at_{n}_max"))
    out["first_seen_at"] = grouped.column(f"{first}_min")
    out["last_seen_at"] = grouped.column(f"{last}_max")
    out["listings"] = _listings(grouped)
    columns = ["paper_key", *DESCRIPTIVE, "first_seen_at", "last_seen_at", "listings"]
    return pa.table({n: out[n] for n in columns}).cast(pa.schema([PAPERS.field(n) for n in columns]))


def _papers_from_entries(entries: pa.Table) -> pa.Table:
    table = entries.sort_by([("paper_key", "ascending"), ("crawled_at", "ascending")])
    table = table.append_column("l_kind", table.column("listing_kind")).append_column(
        "l_key", table.column("listing_key")).append_column("l_rank", table.column("rank")).append_column(
        "l_seen", table.column("crawled_at")).append_column("last_crawled", table.column("crawled_at"))
    return _aggregate(table, "crawled_at", "last_crawled")


def _merge_parent(new: pa.Table, parent: pa.Table | None) -> pa.Table:
    columns = ["paper_key", *DESCRIPTIVE, "first_seen_at", "last_seen_at", "listings"]
    if parent is None or parent.num_rows == 0:
        return new
    both = pa.concat_tables([parent.select(columns).cast(new.schema), new])
    # One row per (paper, listing) so the fold can rebuild the listings in order.
    listings = both.column("listings").combine_chunks()
    rows = pc.list_parent_indices(listings)
    flat = pc.list_flatten(listings)
    empty = pc.equal(pc.list_value_length(listings), 0)
    expanded = pa.concat_tables([
        both.drop_columns(["listings"]).take(rows).append_column("l_kind", pc.struct_field(flat, "kind"))
        .append_column("l_key", pc.struct_field(flat, "key")).append_column("l_rank", pc.struct_field(flat, "rank"))
        .append_column("l_seen", pc.struct_field(flat, "seen_at")),
        both.drop_columns(["listings"]).filter(empty)
        .append_column("l_kind", pa.nulls(pc.sum(empty.cast(pa.int64())).as_py() or 0, pa.string()))
        .append_column("l_key", pa.nulls(pc.sum(empty.cast(pa.int64())).as_py() or 0, pa.string()))
        .append_column("l_rank", pa.nulls(pc.sum(empty.cast(pa.int64())).as_py() or 0, pa.int32()))
        .append_column("l_seen", pa.nulls(pc.sum(empty.cast(pa.int64())).as_py() or 0, TS)),
    ])
    expanded = expanded.sort_by([("paper_key", "ascending"), ("last_seen_at", "ascending"),
                                 ("l_seen", "ascending")])
    return _aggregate(expanded, "first_seen_at", "last_seen_at")


def _observations(entries: pa.Table | None, parent: pa.Table | None) -> tuple[pa.Table, int]:
    tables = []
    if parent is not None:
        tables.append(parent.select(OBSERVATIONS.names).cast(OBSERVATIONS))
    if entries is not None:
        new = entries.select(["paper_key", "paper_id", "crawled_at", "upvotes", "num_comments", "github_stars",
                              "listing_kind", "listing_key", "rank", "fetch_path"])
        tables.append(new.rename_columns(OBSERVATIONS.names).cast(OBSERVATIONS))
    if not tables:
        return OBSERVATIONS.empty_table(), 0
    before = parent.num_rows if parent is not None else 0
    both = pa.concat_tables(tables).sort_by([("observed_at", "ascending")])
    others = [n for n in OBSERVATIONS.names if n not in OBSERVATION_IDENTITY]
    grouped = both.group_by(list(OBSERVATION_IDENTITY), use_threads=False, ).aggregate(
        [(n, "first", pc.ScalarAggregateOptions(skip_nulls=False)) for n in others])
    grouped = grouped.rename_columns([n.removesuffix("_first") for n in grouped.column_names])
    out = grouped.select(OBSERVATIONS.names).cast(OBSERVATIONS).sort_by(OBSERVATIONS_SORT)
    return out, out.num_rows - before


def _last_day(papers: pa.Table) -> pa.Array:
    """Per paper: the latest day listing it was on (ISO date text), null when none."""
    listings = papers.column("listings").combine_chunks()
    flat = pc.list_flatten(listings)
    parents = pc.list_parent_indices(listings)
    is_day = pc.equal(pc.struct_field(flat, "kind"), "day")
    days = pa.table({"row": pc.filter(parents, is_day), "day": pc.filter(pc.struct_field(flat, "key"), is_day)})
    latest = days.group_by("row").aggregate([("day", "max")])
    rows = pa.array(range(papers.num_rows), pa.int64())
    position = pc.index_in(rows, value_set=latest.column("row").cast(pa.int64()))
    return pc.take(latest.column("day_max"), position)


def _finish(papers: pa.Table, clusters: pa.Table, horizon: str) -> pa.Table:
    last_day = _last_day(papers)
    seen_day = pc.strftime(papers.column("last_seen_at"), format="%Y-%m-%d")
    provisional = pc.greater(pc.coalesce(last_day, seen_day), horizon)
    papers = apply_clusters(papers, clusters)
    papers = papers.append_column("provisional", provisional)
    return papers.select(PAPERS.names).cast(PAPERS).sort_by(PAPERS_SORT)


def _bucket_inputs(buckets: BucketFiles, spools: list[Path], parent: Path | None,
                   allow_partial: bool) -> pa.Table:
    """Spread the spools' entries and the parent's rows over the bucket files; return the clusters
    their near-duplicate links make."""
    links = Clusters()
    for spool in spools:
        for table in spool_tables(spool, allow_partial=allow_partial):
            links.add(table)
            buckets.add("entries", table)
    if parent is not None:
        for kind, schema in (("papers", PAPERS), ("obs", OBSERVATIONS)):
            folder = parent / ("papers" if kind == "papers" else "observations")
            for part in sorted(folder.glob("part-*.parquet")):
                for batch in pq.ParquetFile(part).iter_batches(batch_size=8_192):
                    table = conform(pa.Table.from_batches([batch]), schema)
                    if kind == "papers":
                        links.add(table)
                    buckets.add(kind, table)
    return links.table()


def _fold_papers(entries: pa.Table | None, old: pa.Table | None, clusters: pa.Table,
                 horizon: str) -> pa.Table | None:
    """A unit's papers: its entries folded into the parent's rows (a function of its own, so that the
    entries and intermediate tables are freed before the papers are buffered for writing)."""
    papers = _merge_parent(_papers_from_entries(entries), old) if entries is not None else old
    if papers is None:
        return None
    return _finish(papers.select([n for n in PAPERS.names if n != "provisional"]), clusters, horizon)


def _count(stats: FoldStats, papers: pa.Table) -> None:
    """Add a unit's papers to the card's figures."""
    stats.papers += papers.num_rows
    stats.provisional += pc.sum(papers.column("provisional").cast(pa.int64())).as_py() or 0
    stats.clustered += papers.num_rows - papers.column("cluster_id").null_count
    listings = papers.column("listings").combine_chunks()
    flat = pc.list_flatten(listings)
    days = pa.table({"row": pc.list_parent_indices(listings), "kind": pc.struct_field(flat, "kind"),
                     "day": pc.struct_field(flat, "key")}).filter(pc.field("kind") == "day")
    distinct = days.group_by(["row", "day"], use_threads=False).aggregate([]).column("day")
    for item in pc.value_counts(distinct).to_pylist():
        stats.per_day[item["values"]] += item["counts"]
    if len(stats.sample) < 10:
        stats.sample += papers.select(["paper_key", "title"]).slice(0, 10 - len(stats.sample)).to_pylist()


def fold(spools: list[Path], parent: Path | None, out: Path, changes: ChangeLog, *, today: date,
         recrawl_days: int, allow_partial: bool = False) -> FoldStats:
    """Write `out/papers` and `out/observations` from the parent version and the spools; log what
    changed against the parent to `changes`."""
    stats = FoldStats()
    horizon = (today - timedelta(days=recrawl_days)).isoformat()
    with arrow_pool(), tempfile.TemporaryDirectory(dir=out.parent, prefix=".buckets-") as tmp:
        buckets = BucketFiles(Path(tmp))
        clusters = _bucket_inputs(buckets, spools, parent, allow_partial)
        papers_out, obs_out = PartWriter(out / "papers", PAPERS), PartWriter(out / "observations", OBSERVATIONS)
        for unit in buckets.units(UNIT_ROWS):
            observations, new_count = _observations(buckets.read("entries", unit), buckets.read("obs", unit))
            obs_out.write(observations)
            stats.observations += observations.num_rows
            stats.new_observations += new_count
            old = buckets.read("papers", unit)
            papers = _fold_papers(buckets.read("entries", unit), old, clusters, horizon)
            if papers is None:
                continue
            papers_out.write(papers)
            compare_tables(changes, old, papers)
            _count(stats, papers)
        papers_out.close()
        obs_out.close()
    return stats

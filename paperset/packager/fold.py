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
from collections.abc import Collection
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from paperset.packager.buckets import UNIT_ROWS, BucketFiles
from paperset.packager.changes import ChangeLog, compare_tables
from paperset.packager.clusters import Clusters
from paperset.packager.clusters import apply as apply_clusters
from paperset.packager.conform import conform
from paperset.packager.derive import cluster_relation, daily_date, github_name, listing_dates, population, provisional
from paperset.packager.intake import Intake
from paperset.packager.parts import PartitionWriter, ensure_part, partition_of
from paperset.packager.reuse import ParentPlan, merge, stats_record
from paperset.packager.stats import SIDECAR, FoldStats, count, write_sidecar
from paperset.packager.tables import (
    LISTING,
    OBSERVATION_IDENTITY,
    OBSERVATIONS,
    OBSERVATIONS_SORT,
    PAPERS,
    PAPERS_SORT,
    TS,
)
from paperset.spool.arrow_memory import release_freed
from paperset.spool.reader import spool_tables
from paperset.spool.schema import ENTRY

# The entry fields a paper row takes from its sightings (its last non-null value of each): the papers
# schema's fields that are entry fields, the key aside.
DESCRIPTIVE = tuple(n for n in PAPERS.names if n in ENTRY.names and n != "paper_key")
READ_ROWS = 2_048  # rows of the parent decoded at once


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
    parts.append(listing_dates(parts[0], parts[1]))
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


# Sightings of a paper received in the same millisecond (the tables' precision) are put in content order,
# so that the fold does not depend on the order they reached the spool (a replay, workers, a resume).
TIE_BREAK = [("listing_kind", "ascending"), ("listing_key", "ascending"), ("rank", "ascending"),
             ("fetch_path", "ascending")]


def _papers_from_entries(entries: pa.Table) -> pa.Table:
    table = entries.sort_by([("paper_key", "ascending"), ("crawled_at", "ascending"), *TIE_BREAK])
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
                                 ("l_seen", "ascending"), ("l_kind", "ascending"), ("l_key", "ascending"),
                                 ("l_rank", "ascending")])
    return _aggregate(expanded, "first_seen_at", "last_seen_at")


def _observations(entries: pa.Table | None, parent: pa.Table | None, version: str) -> tuple[pa.Table, int]:
    """The unit's observations: the parent's (conformed to OBSERVATIONS) and the entries' new ones, an
    observation the parent holds kept once, with the version that first held it."""
    tables = []
    if parent is not None:
        tables.append(parent)
    if entries is not None:
        new = entries.select(["paper_key", "paper_id", "crawled_at", "upvotes", "num_comments", "github_stars",
                              "listing_kind", "listing_key", "rank", "fetch_path"])
        new = new.rename_columns(["paper_key", "paper_id", "observed_at", "upvotes", "num_comments",
                                  "github_stars", "listing_kind", "listing_key", "rank", "fetch_path"])
        tables.append(conform(new, OBSERVATIONS, {"version": version}))
    if not tables:
        return OBSERVATIONS.empty_table(), 0
    before = parent.num_rows if parent is not None else 0
    both = pa.concat_tables(tables).sort_by([("observed_at", "ascending"), *TIE_BREAK])
    # Derived from the key, for the parent's rows too (a parent written before the column has none).
    dates = listing_dates(both.column("listing_kind").combine_chunks(), both.column("listing_key").combine_chunks())
    both = both.set_column(both.schema.get_field_index("listing_date"), "listing_date", dates)
    others = [n for n in OBSERVATIONS.names if n not in OBSERVATION_IDENTITY]
    grouped = both.group_by(list(OBSERVATION_IDENTITY), use_threads=False, ).aggregate(
        [(n, "first", pc.ScalarAggregateOptions(skip_nulls=False)) for n in others])
    grouped = grouped.rename_columns([n.removesuffix("_first") for n in grouped.column_names])
    out = grouped.select(OBSERVATIONS.names).cast(OBSERVATIONS).sort_by(OBSERVATIONS_SORT)
    return out, out.num_rows - before


def _seen(papers: pa.Table, observations: pa.Table) -> pa.Table:
    """first_seen_at and last_seen_at from the paper's observations: the first and the latest time a
    crawl recorded something new of it (a re-crawl that saw nothing new moves neither)."""
    times = observations.group_by("paper_key", use_threads=False).aggregate(
        [("observed_at", "min"), ("observed_at", "max")])
    where = pc.index_in(papers.column("paper_key"), value_set=times.column("paper_key"))
    for name, column in (("first_seen_at", "observed_at_min"), ("last_seen_at", "observed_at_max")):
        value = pc.coalesce(pc.take(times.column(column), where), papers.column(name))
        papers = papers.set_column(papers.schema.get_field_index(name), name, value)
    return papers


def _finish(papers: pa.Table, clusters: pa.Table, horizon: date, daily_kinds: Collection[str]) -> pa.Table:
    """The folded rows with their derived columns (paperset/packager/derive.py), in the papers schema."""
    papers = apply_clusters(papers, clusters)
    papers = papers.append_column("daily_date", daily_date(papers))
    derived = {"provisional": provisional(papers, horizon), "population": population(papers, daily_kinds),
               "keyless": pc.is_null(papers.column("paper_id")), "cluster_relation": cluster_relation(papers),
               "github_full_name": github_name(papers.column("github_repo"))}
    for name, column in derived.items():
        papers = papers.append_column(name, column)
    return papers.select(PAPERS.names).cast(PAPERS).sort_by(PAPERS_SORT)


def _read_into(buckets: BucketFiles, links: Clusters | None, kind: str, parts: list[Path], parent: Path) -> None:
    """The parent's Parquet files of `kind` ("papers" or "obs") spread over the bucket files."""
    schema = PAPERS if kind == "papers" else OBSERVATIONS
    for part in parts:
        # Mapped and decoded in small batches: a partition's one large row group read at once held several
        # times its size in decoded pages (the memory of a night followed its largest partition).
        for batch in pq.ParquetFile(part, memory_map=True).iter_batches(batch_size=READ_ROWS, use_threads=False):
            # A parent written under an earlier schema is read as the current one (conform.py).
            table = conform(pa.Table.from_batches([batch]), schema, {"version": parent.name})
            if links is not None:
                links.add(table)
            buckets.add(kind, table)
        release_freed()


def _bucket_inputs(intake: Intake, spools: list[Path], parent: Path | None, plan: ParentPlan,
                   allow_partial: bool) -> pa.Table:
    """Spread the spools' entries (but for the parts `intake` has taken already) and the parent's rows of
    the partitions the night refolds (`plan`) over the intake's bucket files; return the clusters their
    near-duplicate links, and those of the kept partitions, make."""
    for spool in spools:
        for table in spool_tables(spool, allow_partial=allow_partial, skip=intake.parts):
            intake.take(table)
    buckets, links, touched = intake.buckets, intake.links, intake.touched
    if parent is None:
        return links.table()
    plan.decide(touched)
    _read_into(buckets, links, "papers", plan.to_read("papers"), parent)
    _read_into(buckets, None, "obs", plan.to_read("observations"), parent)
    kept = plan.kept_links()
    if kept is not None:
        links.add(kept)
    clusters = links.table()
    moved = plan.recheck(clusters, kept)
    _read_into(buckets, None, "papers", plan.files_of("papers", moved), parent)
    _read_into(buckets, None, "obs", plan.files_of("observations", moved), parent)
    return clusters


def _fold_papers(entries: pa.Table | None, old: pa.Table | None, clusters: pa.Table,
                 observations: pa.Table, horizon: date, daily_kinds: Collection[str]) -> pa.Table | None:
    """A unit's papers: its entries folded into the parent's rows (a function of its own, so that the
    entries and intermediate tables are freed before the papers are buffered for writing)."""
    columns = ["paper_key", *DESCRIPTIVE, "first_seen_at", "last_seen_at", "listings"]
    papers = _merge_parent(_papers_from_entries(entries), old) if entries is not None else old
    if papers is None:
        return None
    return _finish(_seen(papers.select(columns), observations), clusters, horizon, daily_kinds)


def fold(spools: list[Path], parent: Path | None, out: Path, changes: ChangeLog, *, today: date,
         recrawl_days: int, version: str, daily_kinds: Collection[str], allow_partial: bool = False,
         intake: Intake | None = None) -> FoldStats:
    """Write `out/papers` and `out/observations` (of version `version`) from the parent version and the
    spools; log what changed against the parent to `changes`. `daily_kinds`: the listing kinds of Daily
    Papers itself (the population rule). `intake`: the spool parts read already (the caller removes its folder)."""
    horizon = today - timedelta(days=recrawl_days)
    plan = ParentPlan(parent, today, recrawl_days, daily_kinds)
    figures: dict[str, FoldStats] = {}
    new_observations = 0
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".buckets-") as tmp:
        intake = intake or Intake(Path(tmp))
        clusters = _bucket_inputs(intake, spools, parent, plan, allow_partial)
        buckets = intake.buckets
        papers_out = PartitionWriter(out / "papers", PAPERS)
        obs_out = PartitionWriter(out / "observations", OBSERVATIONS)
        for unit in buckets.units(UNIT_ROWS):
            part, entries = partition_of(unit), buckets.read("entries", unit)  # each bucket read once
            freed = entries.nbytes if entries is not None else 0
            observations, new_count = _observations(entries, buckets.read("obs", unit), version)
            if observations.num_rows:
                obs_out.write(part, observations)
            new_observations += new_count
            old = buckets.read("papers", unit)
            papers = _fold_papers(entries, old, clusters, observations, horizon, daily_kinds)
            del entries
            if papers is not None:
                papers_out.write(part, papers)
                compare_tables(changes, old, papers)
            # Every observation written is counted, also in a unit without papers (the manifest's rows).
            count(figures.setdefault(part, FoldStats()), papers if papers is not None else PAPERS.empty_table(),
                  observations)
            freed += sum(table.nbytes for table in (old, observations, papers) if table is not None)
            del papers, old, observations
            release_freed(freed)  # the unit's buffers, before the next unit's (arrow_memory.py)
        papers_out.close()
        obs_out.close()
    for name, figure in figures.items():
        write_sidecar(out / SIDECAR, name, figure.columns)
    figures.update(plan.link_kept(out))
    ensure_part(out / "papers", PAPERS)
    ensure_part(out / "observations", OBSERVATIONS)
    stats = FoldStats(new_observations=new_observations)
    for name in sorted(figures):
        merge(stats, figures[name])
    stats.partitions = {name: stats_record(figures[name]) for name in sorted(figures)}
    return stats

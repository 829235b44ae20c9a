"""Fold spools into the snapshot's tables in bounded memory, with Arrow: entries are read by pyarrow's
JSON reader, range-partitioned by the first 4 characters of `paper_key` into temporary Parquet
buckets (with the parent version's rows), and each bucket is aggregated and written in turn. Buckets
in order of their prefix give rows sorted by `paper_key`, so memory follows the largest bucket, not
the dataset."""

from __future__ import annotations

import io
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from packager.clusters import Clusters
from packager.clusters import apply as apply_clusters
from packager.schema import LISTING, OBSERVATION_IDENTITY, OBSERVATIONS, PAPERS, TS
from packager.spool import SpoolError, spool_parts

PREFIX = 4
DESCRIPTIVE = ("paper_id", "arxiv_version", "content_key", "title", "abstract", "authors", "published_at",
               "submitted_on_daily_at", "upvotes", "num_comments", "github_stars", "github_repo", "project_page",
               "thumbnail", "ai_keywords", "ai_summary", "organization", "cluster_id", "similarity")
ENTRY = pa.schema([
    ("paper_key", pa.string()), ("paper_id", pa.string()), ("arxiv_version", pa.int32()),
    ("content_key", pa.string()), ("title", pa.string()), ("abstract", pa.string()),
    ("authors", pa.list_(pa.string())), ("published_at", TS), ("submitted_on_daily_at", TS),
    ("upvotes", pa.int64()), ("num_comments", pa.int64()), ("github_stars", pa.int64()),
    ("github_repo", pa.string()), ("project_page", pa.string()), ("thumbnail", pa.string()),
    ("ai_keywords", pa.list_(pa.string())), ("ai_summary", pa.string()), ("organization", pa.string()),
    ("listing_kind", pa.string()), ("listing_key", pa.string()), ("rank", pa.int32()),
    ("crawled_at", TS), ("fetch_path", pa.string()), ("cluster_id", pa.string()), ("similarity", pa.float64()),
])


def _json_tables(source: Any, where: str) -> Iterator[pa.Table]:
    """Arrow tables of a JSON-lines stream, read in blocks of about 8 MB."""
    try:
        reader = pj.open_json(source, read_options=pj.ReadOptions(block_size=8 << 20),
                              parse_options=pj.ParseOptions(explicit_schema=ENTRY,
                                                            unexpected_field_behavior="ignore"))
        for batch in reader:
            table = pa.Table.from_batches([batch])
            if table.column("paper_key").null_count:
                raise SpoolError(f"{where}: an entry without paper_key")
            yield table.select(ENTRY.names).cast(ENTRY)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SpoolError(f"{where}: a cut or broken line ({str(exc).splitlines()[0]})") from None


def spool_tables(folder: Path, *, allow_partial: bool = False) -> Iterator[pa.Table]:
    """The spool's entries as Arrow tables, part by part, block by block. A cut line is an error,
    except the last line of an unfinished spool read with `allow_partial` (the crawl was killed while
    writing it)."""
    parts, finished = spool_parts(folder, allow_partial=allow_partial)
    for n, part in enumerate(parts):
        size = part.stat().st_size
        if size == 0:
            continue
        if n == len(parts) - 1 and not finished:
            data = part.read_bytes()
            yield from _json_tables(io.BytesIO(data[: data.rfind(b"\n") + 1]), str(part))
        else:
            yield from _json_tables(str(part), str(part))


def _buckets(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    prefix = pc.utf8_slice_codeunits(table.column("paper_key"), 0, PREFIX)
    for value in pc.unique(prefix).to_pylist():
        yield value, table.filter(pc.equal(prefix, value))


class BucketFiles:
    """Per-prefix Parquet files in a temporary folder: one writer per (kind, prefix)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}

    def add(self, kind: str, table: pa.Table) -> None:
        for prefix, part in _buckets(table):
            key = (kind, prefix)
            if key not in self.writers:
                name = f"{kind}-{prefix.encode().hex()}.parquet"
                # Temporary files: no statistics, whose per-row-group min/max of long texts would pile up
                # in the writer's metadata until it closes.
                self.writers[key] = pq.ParquetWriter(self.folder / name, table.schema, compression="lz4",
                                                     write_statistics=False)
            self.writers[key].write_table(part)

    def close(self) -> list[str]:
        for writer in self.writers.values():
            writer.close()
        return sorted({prefix for _, prefix in self.writers})

    def read(self, kind: str, prefix: str) -> pa.Table | None:
        path = self.folder / f"{kind}-{prefix.encode().hex()}.parquet"
        return pq.read_table(path) if path.exists() else None


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
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)


LIST_FIELDS = ("authors", "ai_keywords")


def _aggregate(table: pa.Table, first: str, last: str) -> pa.Table:
    """Rows sorted by (paper_key, time) folded to one per paper_key: `DESCRIPTIVE` fields take their
    last non-null value, `first`/`last` the min and max time, `listings` every listing in order.
    `table` has the DESCRIPTIVE columns, the two time columns, and `l_kind`, `l_key`, `l_rank`,
    `l_seen` (one listing per row, possibly null)."""
    table = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    # A listing place (kind, key, rank) counts once per paper, at its earliest sighting.
    firsts = table.group_by(["paper_key", "l_kind", "l_key", "l_rank"], use_threads=False).aggregate(
        [("_row", "min")]).column("_row_min")
    keep = pc.is_in(table.column("_row"), value_set=firsts)
    for name in ("l_kind", "l_key", "l_rank", "l_seen"):
        column = table.column(name)
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.if_else(keep, column, pa.scalar(None, column.type)))
    skip = pc.ScalarAggregateOptions(skip_nulls=True)
    scalar = [n for n in DESCRIPTIVE if n not in LIST_FIELDS]
    grouped = table.group_by("paper_key", use_threads=False).aggregate(
        [*[(n, "last", skip) for n in scalar], (first, "min"), (last, "max"),
         *[(n, "list") for n in ("l_kind", "l_key", "l_rank", "l_seen")]])
    out = {"paper_key": grouped.column("paper_key")}
    for n in scalar:
        out[n] = grouped.column(f"{n}_last")
    keys = grouped.column("paper_key")
    for n in LIST_FIELDS:  # hash_last has no kernel for lists: take the row of the last non-null value
        present = table.filter(pc.is_valid(table.column(n)))
        rows = present.group_by("paper_key", use_threads=False).aggregate([("_row", "max")])
        where = pc.index_in(keys, value_set=rows.column("paper_key"))
        out[n] = pc.take(table.column(n), pc.take(rows.column("_row_max"), where))
    out["first_seen_at"] = grouped.column(f"{first}_min")
    out["last_seen_at"] = grouped.column(f"{last}_max")
    kinds = grouped.column("l_kind_list").combine_chunks()
    parts = [grouped.column(f"l_{n}_list").combine_chunks() for n in ("kind", "key", "rank", "seen")]
    entries = pa.StructArray.from_arrays([p.values for p in parts], fields=list(LISTING))
    valid = pc.is_valid(entries.field("kind"))
    # Drop empty listing slots (parent rows contribute one null slot when they had none).
    listing_rows = pa.table({"row": pc.list_parent_indices(kinds), "item": entries}).filter(valid)
    counts = pc.value_counts(listing_rows.column("row")) if listing_rows.num_rows else None
    per_row = [0] * grouped.num_rows
    if counts is not None:
        for item in counts.to_pylist():
            per_row[item["values"]] = item["counts"]
    offsets = pa.array([0, *__import__("itertools").accumulate(per_row)], pa.int32())
    out["listings"] = pa.ListArray.from_arrays(offsets, listing_rows.column("item").combine_chunks(),
                                               type=pa.list_(LISTING))
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
    out = grouped.select(OBSERVATIONS.names).cast(OBSERVATIONS).sort_by(
        [("paper_key", "ascending"), ("observed_at", "ascending"), ("listing_kind", "ascending"),
         ("listing_key", "ascending"), ("rank", "ascending")])
    return out, out.num_rows - before


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
            self._emit(merged.slice(0, self.row_group).combine_chunks())
            # A copy, so the rest does not keep the whole merged buffer (and those before it) alive.
            rest = merged.slice(self.row_group).combine_chunks()
            self.pending, self.pending_rows = [rest], rest.num_rows

    def close(self) -> None:
        if self.pending_rows or self.parts == 0:
            table = pa.concat_tables(self.pending) if self.pending else self.schema.empty_table()
            self._emit(table.combine_chunks())
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _last_day(papers: pa.Table) -> pa.Array:
    """Per paper: the latest day listing it was on (ISO date text), null when none."""
    listings = papers.column("listings").combine_chunks()
    flat = pc.list_flatten(listings)
    parents = pc.list_parent_indices(listings)
    is_day = pc.equal(pc.struct_field(flat, "kind"), "day")
    days = pa.table({"row": pc.filter(parents, is_day), "day": pc.filter(pc.struct_field(flat, "key"), is_day)})
    latest = days.group_by("row").aggregate([("day", "max")])
    position = pc.index_in(pa.array(range(papers.num_rows), pa.int64()), value_set=latest.column("row").cast(pa.int64()))
    return pc.take(latest.column("day_max"), position)


def _finish(papers: pa.Table, clusters: pa.Table, horizon: str) -> pa.Table:
    last_day = _last_day(papers)
    seen_day = pc.strftime(papers.column("last_seen_at"), format="%Y-%m-%d")
    provisional = pc.greater(pc.coalesce(last_day, seen_day), horizon)
    papers = apply_clusters(papers, clusters)
    papers = papers.append_column("provisional", provisional)
    return papers.select(PAPERS.names).cast(PAPERS).sort_by([("paper_key", "ascending")])


def _compare(stats: FoldStats, old: pa.Table | None, new: pa.Table) -> None:
    from packager.changes import IGNORED

    old_keys = set(old.column("paper_key").to_pylist()) if old is not None else set()
    new_keys = new.column("paper_key").to_pylist()
    stats.added += [k for k in new_keys if k not in old_keys]
    stats.removed += sorted(old_keys - set(new_keys))
    if not old_keys:
        return
    fields = [n for n in PAPERS.names if n not in IGNORED and n != "paper_key"]
    before = {row["paper_key"]: row for row in old.select(["paper_key", *fields]).to_pylist()}
    mask = pc.is_in(new.column("paper_key"), value_set=pa.array(sorted(old_keys), pa.string()))
    for row in new.filter(mask).select(["paper_key", *fields]).to_pylist():
        changed = [n for n in fields if before[row["paper_key"]][n] != row[n]]
        if changed:
            stats.changed[row["paper_key"]] = changed


def fold(spools: list[Path], parent: Path | None, out: Path, *, today: date, recrawl_days: int,
         allow_partial: bool = False) -> FoldStats:
    """Write `out/papers` and `out/observations` from the parent version and the spools."""
    stats = FoldStats()
    horizon = (today - timedelta(days=recrawl_days)).isoformat()
    links = Clusters()
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".buckets-") as tmp:
        buckets = BucketFiles(Path(tmp))
        for spool in spools:
            for table in spool_tables(spool, allow_partial=allow_partial):
                links.add(table)
                buckets.add("entries", table)
        if parent is not None:
            for kind, schema in (("papers", PAPERS), ("obs", OBSERVATIONS)):
                folder = parent / ("papers" if kind == "papers" else "observations")
                for part in sorted(folder.glob("part-*.parquet")):
                    for batch in pq.ParquetFile(part).iter_batches(batch_size=50_000):
                        table = pa.Table.from_batches([batch]).cast(schema)
                        if kind == "papers":
                            links.add(table)
                        buckets.add(kind, table)
        clusters = links.table()
        papers_out, obs_out = PartWriter(out / "papers", PAPERS), PartWriter(out / "observations", OBSERVATIONS)
        for prefix in buckets.close():
            entries = buckets.read("entries", prefix)
            old = buckets.read("papers", prefix)
            papers = _merge_parent(_papers_from_entries(entries), old) if entries is not None else old
            papers = _finish(papers.select([n for n in PAPERS.names if n != "provisional"]), clusters, horizon)
            observations, new_count = _observations(entries, buckets.read("obs", prefix))
            papers_out.write(papers)
            obs_out.write(observations)
            _compare(stats, old, papers)
            stats.papers += papers.num_rows
            stats.observations += observations.num_rows
            stats.new_observations += new_count
            stats.provisional += pc.sum(papers.column("provisional").cast(pa.int64())).as_py() or 0
            stats.clustered += papers.num_rows - papers.column("cluster_id").null_count
            listings = papers.column("listings").combine_chunks()
            flat = pc.list_flatten(listings)
            days = pa.table({"row": pc.list_parent_indices(listings), "kind": pc.struct_field(flat, "kind"),
                             "day": pc.struct_field(flat, "key")}).filter(pc.field("kind") == "day")
            for day in days.group_by(["row", "day"]).aggregate([]).column("day").to_pylist():
                stats.per_day[day] += 1
            if len(stats.sample) < 10:
                stats.sample += papers.select(["paper_key", "title"]).slice(0, 10 - len(stats.sample)).to_pylist()
        papers_out.close()
        obs_out.close()
    return stats

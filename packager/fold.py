"""Fold spools into the snapshot's tables in bounded memory, with Arrow: entries are read by pyarrow's
JSON reader, range-partitioned by the first 4 characters of `paper_key` into temporary Arrow IPC
buckets (with the parent version's rows), and each bucket is aggregated and written in turn. A bucket
with more than `UNIT_ROWS` rows is range-partitioned again by `paper_key` (boundaries from its own keys)
before it is folded, so memory follows `UNIT_ROWS`, not the dataset (a prefix such as an arXiv month
grows with it). Units in key order give rows sorted by `paper_key`. Nothing that grows with the
dataset is kept in Python: changes go to files (`ChangeLog`). The buckets take about as much disk as
the spools."""

from __future__ import annotations

import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from packager.changes import IGNORED, ChangeLog, changed_line, key_line
from packager.clusters import Clusters
from packager.clusters import apply as apply_clusters
from packager.schema import LISTING, OBSERVATION_IDENTITY, OBSERVATIONS, PAPERS, TS
from packager.spool import SpoolError, spool_parts

PREFIX = 4
# Most rows (new entries, parent papers and parent observations together) folded at once.
UNIT_ROWS = 8_192
# How soon jemalloc hands freed Arrow memory back to the system while folding (see _arrow_pool).
DECAY_MS = 250
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
            self._write(kind, prefix.encode().hex(), part)

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
                slot = _ranges(table.column("paper_key"), bounds)
                for n in pc.unique(slot).to_pylist():
                    self._write(kind, f"{name}-{n:05d}", table.filter(pc.equal(slot, n)).combine_chunks())
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


COMPARE_ROWS = 2048  # rows of both versions turned into Python objects at once by _compare


def _compare(changes: ChangeLog, old: pa.Table | None, new: pa.Table) -> None:
    """Log the papers of `new` missing from `old` (added), those of `old` missing from `new` (removed),
    and, for those in both, the fields that differ (changed); `old` and `new` hold the same key range."""
    new_keys = new.column("paper_key")
    if old is None or old.num_rows == 0:
        changes.add("Added", [key_line(k) for k in new_keys.to_pylist()])
        return
    old_keys = old.column("paper_key")
    position = pc.index_in(new_keys, value_set=old_keys)
    changes.add("Added", [key_line(k) for k in new_keys.filter(pc.is_null(position)).to_pylist()])
    gone = old_keys.filter(pc.invert(pc.is_in(old_keys, value_set=new_keys)))
    changes.add("Removed", [key_line(k) for k in sorted(gone.to_pylist())])
    fields = [n for n in PAPERS.names if n not in IGNORED and n != "paper_key"]
    both = pc.is_valid(position)
    after = new.filter(both).select(["paper_key", *fields])
    before = old.select(fields).take(position.filter(both))
    for start in range(0, after.num_rows, COMPARE_ROWS):
        lines = []
        rows = after.slice(start, COMPARE_ROWS).to_pylist()
        for row, was in zip(rows, before.slice(start, COMPARE_ROWS).to_pylist(), strict=True):
            differ = [n for n in fields if was[n] != row[n]]
            if differ:
                lines.append(changed_line(row["paper_key"], differ))
        changes.add("Changed", lines)


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
                    table = pa.Table.from_batches([batch]).cast(schema)
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


def _jemalloc() -> pa.MemoryPool | None:
    """jemalloc, returning freed pages within `DECAY_MS`; None when pyarrow was built without it or
    ARROW_DEFAULT_MEMORY_POOL chose a pool."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return None
    try:
        pa.jemalloc_set_decay_ms(DECAY_MS)  # for arenas made from now on: before the pool's first use
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return None


@contextmanager
def _arrow_pool() -> Iterator[None]:
    """Fold with Arrow allocating from jemalloc (when there is one). The default pool, mimalloc, keeps
    freed pages: with the fold's churn of short-lived multi-megabyte buffers the process held 1.5-3
    times the live Arrow memory."""
    pool, previous = _jemalloc(), pa.default_memory_pool()
    if pool is not None:
        pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def fold(spools: list[Path], parent: Path | None, out: Path, changes: ChangeLog, *, today: date,
         recrawl_days: int, allow_partial: bool = False) -> FoldStats:
    """Write `out/papers` and `out/observations` from the parent version and the spools; log what
    changed against the parent to `changes`."""
    stats = FoldStats()
    horizon = (today - timedelta(days=recrawl_days)).isoformat()
    with _arrow_pool(), tempfile.TemporaryDirectory(dir=out.parent, prefix=".buckets-") as tmp:
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
            _compare(changes, old, papers)
            _count(stats, papers)
        papers_out.close()
        obs_out.close()
    return stats

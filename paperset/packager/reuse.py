"""What a night reads of its parent: only the partitions it may change (paperset/packager/parts.py names them). A
partition of the parent is refolded when the night's entries fall into it, when one of its papers may
still leave the recrawl window (`provisional` true in its Parquet statistics), or when the night's
near-duplicate links change the cluster of one of its papers; every other partition is unchanged by the
fold (it would write the same bytes), so its files are linked into the new version unread, its card
figures taken from the parent's manifest (`partitions`). A parent of an earlier layout, schema, fold code
(`fold_version`: a derivation rule may have changed), horizon or without the figures (the manifest's, or a
partition's column figures in `stats/`) is refolded whole."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Collection
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from paperset.packager.buckets import PREFIX, partition_name
from paperset.packager.footers import footer
from paperset.packager.manifest import MANIFEST, fold_version
from paperset.packager.share import link_or_copy
from paperset.packager.stats import SIDECAR, FoldStats
from paperset.packager.tables import TABLES, fingerprint

_PART = re.compile(r"^part-([0-9a-f]+)-\d{5}\.parquet$")
FOLDERS = ("papers", "observations")
LINK_COLUMNS = ["paper_key", "cluster_id", "similarity"]


def partitions_of(keys: pa.Array | pa.ChunkedArray) -> set[str]:
    """The partitions (hex of the first PREFIX characters, UTF-8) the keys fall into."""
    return {partition_name(p) for p in pc.unique(pc.utf8_slice_codeunits(keys, 0, PREFIX)).to_pylist()}


def stats_record(stats: FoldStats) -> dict[str, Any]:
    """A partition's figures as the manifest keeps them (counters as plain objects)."""
    return {f.name: dict(value) if isinstance(value := getattr(stats, f.name), dict) else value
            for f in fields(stats) if f.name not in ("partitions", "columns", "new_observations")}


def stats_from(record: dict[str, Any]) -> FoldStats:
    stats = FoldStats()
    for name, value in record.items():
        current = getattr(stats, name, None)
        if isinstance(current, dict):
            current.update(value)
        elif current is not None:  # a field of FoldStats (none defaults to None); unknown names skipped
            setattr(stats, name, value)
    return stats


def merge(total: FoldStats, part: FoldStats) -> None:
    """Add one partition's figures to the version's (new_observations aside: the fold counts those)."""
    for name in ("papers", "observations", "provisional", "not_provisional", "clustered", "keyless"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for name in ("per_day", "undated", "populations", "relations", "listing_kinds", "observation_kinds"):
        getattr(total, name).update(getattr(part, name))
    total.sample += part.sample[:10 - len(total.sample)]


def _may_change(files: list[Path]) -> bool:
    """Whether a papers partition holds a row whose `provisional` is, or may be, true (by its statistics)."""
    return any("provisional" in footer(path).may_be_true for path in files)


def _any_clustered(path: Path) -> bool:
    """Whether a papers file may hold a row with a `cluster_id` (by its statistics: not every value null)."""
    return "cluster_id" not in footer(path).all_null


class ParentPlan:
    """The parent's partitions, which the night reads (`read`) and which it links unread (`kept`)."""

    def __init__(self, parent: Path | None, today: date, recrawl_days: int, daily_kinds: Collection[str]) -> None:
        self.parent = parent
        self.daily_kinds = sorted(daily_kinds)
        self.files: dict[str, dict[str, list[Path]]] = {kind: {} for kind in FOLDERS}
        self.figures: dict[str, dict[str, Any]] = {}
        self.kept: set[str] = set()
        self.whole = parent is None or not self._layout(parent, today - timedelta(days=recrawl_days))

    def _layout(self, parent: Path, horizon: date) -> bool:
        """Read the parent's file names and manifest: whether it can be read by partition."""
        try:
            manifest = json.loads((parent / MANIFEST).read_text(encoding="utf-8"))
            before = date.fromisoformat(manifest["created_at"][:10]) - timedelta(days=int(manifest["recrawl_days"]))
        except (OSError, ValueError, KeyError, TypeError):
            return False
        # Same schema, same fold code and the same daily kinds (the population rule's): the derived columns of a
        # kept partition are what a refold would give.
        same_schema = manifest.get("schema") == {t: fingerprint(s) for t, s in TABLES.items()} \
            and manifest.get("fold_version") == fold_version() \
            and sorted(manifest.get("daily_kinds") or ()) == self.daily_kinds
        self.figures = manifest.get("partitions") or {}
        for kind in FOLDERS:
            for path in sorted((parent / kind).glob("*.parquet")):
                match = _PART.match(path.name)
                if match is None:
                    return False
                self.files[kind].setdefault(match.group(1), []).append(path)
        # A later horizon only turns provisional papers into settled ones, never the other way.
        sidecars = all((parent / SIDECAR / f"part-{p}.json").is_file() for p in self.files["papers"])
        return same_schema and before <= horizon and set(self.files["papers"]) <= set(self.figures) and sidecars

    def decide(self, touched: set[str]) -> None:
        """Keep (link unread) the partitions the night's entries do not touch and whose papers are settled."""
        if not self.whole:
            self.kept = {p for p, files in self.files["papers"].items()
                         if p not in touched and not _may_change(files)}

    def to_read(self, kind: str) -> list[Path]:
        """The parent's files of `kind` the night folds, in name order."""
        if self.parent is None:
            return []
        if self.whole:
            return sorted((self.parent / kind).glob("part-*.parquet"))
        return [path for p, files in sorted(self.files[kind].items()) if p not in self.kept for path in files]

    def kept_links(self) -> pa.Table | None:
        """The near-duplicate links (paper_key, cluster_id, similarity) recorded in the kept partitions."""
        tables = []
        for p in sorted(self.kept):
            for path in self.files["papers"][p]:
                if not _any_clustered(path):
                    continue
                table = pq.read_table(path, columns=LINK_COLUMNS)
                tables.append(table.filter(pc.is_valid(table.column("cluster_id"))))
        return pa.concat_tables(tables) if tables else None

    def recheck(self, clusters: pa.Table, links: pa.Table | None) -> list[str]:
        """Kept partitions in which the night's clusters give a paper another cluster or similarity: they
        are refolded after all (returned, and no longer kept)."""
        moved = []
        prefixes = pc.utf8_slice_codeunits(clusters.column("paper_key"), 0, PREFIX)
        held = pc.utf8_slice_codeunits(links.column("paper_key"), 0, PREFIX) if links is not None else None
        for p in sorted(self.kept):
            prefix = bytes.fromhex(p).decode()
            expected = clusters.filter(pc.equal(prefixes, prefix)).sort_by("paper_key").to_pylist()
            stored = (links.filter(pc.equal(held, prefix)).select(LINK_COLUMNS).sort_by("paper_key").to_pylist()
                      if links is not None else [])
            if expected != stored:
                moved.append(p)
        self.kept -= set(moved)
        return moved

    def files_of(self, kind: str, partitions: list[str]) -> list[Path]:
        return [path for p in partitions for path in self.files[kind].get(p, [])]

    def link_kept(self, out: Path) -> dict[str, FoldStats]:
        """Link (or copy) the kept partitions' files and column figures (stats/) into the new version;
        their card figures, by partition."""
        assert self.parent is not None or not self.kept
        sidecars = [self.parent / SIDECAR / f"part-{p}.json" for p in sorted(self.kept)] if self.parent else []
        (out / SIDECAR).mkdir(parents=True, exist_ok=True)
        for kind, paths in [*((k, self.files_of(k, sorted(self.kept))) for k in FOLDERS), (SIDECAR, sidecars)]:
            for path in paths:
                target = out / kind / path.name
                if not link_or_copy(path, target):
                    shutil.copyfile(path, target)
        return {p: stats_from(self.figures[p]) for p in self.kept}

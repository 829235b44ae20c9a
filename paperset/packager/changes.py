"""What changed between two versions' papers: added, removed, and changed (with the fields).

Every column counts: applying version N's `changes` to version N-1 (drop the removed keys, put the rows
of the added and changed ones in place) gives version N's papers row for row. The columns that used to
move at every crawl no longer do: `last_seen_at` is the paper's latest observation (paperset/packager/fold.py).

`Changes` holds them in memory (for `paperset diff`); `ChangeLog` writes them to files as the fold
finds them, so a first version of a million papers costs a file of keys, not a million strings in
memory, and the `changes/` Parquet table (one row a paper: added, removed, or changed with its fields,
the paper's row in this version and the parent's values of the changed fields) unit by unit. Both render
the same CHANGES.md text."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paperset.packager.conform import conform
from paperset.packager.parts import PartWriter
from paperset.packager.tables import CHANGES, CHANGES_SORT, PAPERS

SECTIONS = ("Added", "Removed", "Changed")
CHANGE_ROWS = 8192  # rows of a row group of the changes table


def _header(parent: str | None, version: str, added: int, removed: int, changed: int) -> str:
    return (f"# Changes in {version}\n\nAgainst {parent or 'nothing (first version)'}: "
            f"{added} added, {removed} removed, {changed} changed.\n")


def key_line(key: str) -> str:
    return f"- `{key}`\n"


def changed_line(key: str, fields: Iterable[str]) -> str:
    return f"- `{key}`: {', '.join(fields)}\n"


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed,
                "counts": {"added": len(self.added), "removed": len(self.removed), "changed": len(self.changed)}}

    def _sections(self) -> Iterator[tuple[str, list[str]]]:
        yield "Added", [key_line(k) for k in self.added]
        yield "Removed", [key_line(k) for k in self.removed]
        yield "Changed", [changed_line(k, v) for k, v in self.changed.items()]

    def to_markdown(self, parent: str | None, version: str) -> str:
        text = [_header(parent, version, len(self.added), len(self.removed), len(self.changed))]
        for title, lines in self._sections():
            if lines:
                text += [f"\n## {title}\n\n", *lines]
        return "".join(text)


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def before_json(was: dict[str, Any], fields: list[str]) -> str:
    """The parent's values of the changed fields, as the `before` column holds them (JSON, times ISO)."""
    return json.dumps({n: was[n] for n in fields}, default=_json_value, ensure_ascii=False, sort_keys=True)


class ChangeLog:
    """Added, removed and changed papers appended to one file per section as they come (in key
    order), with their counts; `write_markdown` streams CHANGES.md from them; the `changes/` table
    is written to `parquet` (when given) as they come."""

    def __init__(self, folder: Path, parquet: Path | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.files: dict[str, IO[str]] = {s: (folder / f"{s.lower()}.md").open("w", encoding="utf-8")
                                          for s in SECTIONS}
        # Row groups of CHANGE_ROWS: the writer buffers a row group of full rows (a first version's changes
        # hold every paper), beside the papers' own writer.
        self.writer = PartWriter(parquet, CHANGES, row_group=CHANGE_ROWS) if parquet is not None else None
        self.rows = 0

    @property
    def added(self) -> int:
        return self.counts["Added"]

    @property
    def removed(self) -> int:
        return self.counts["Removed"]

    @property
    def changed(self) -> int:
        return self.counts["Changed"]

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    def add(self, section: str, entries: list[tuple[str, list[str]]]) -> None:
        """(paper_key, changed fields) pairs; the fields are empty for Added and Removed."""
        if not entries:
            return
        self.files[section].writelines(changed_line(k, f) if section == "Changed" else key_line(k) for k, f in entries)
        self.counts[section] += len(entries)

    def write_rows(self, table: pa.Table) -> None:
        """A unit's change rows (CHANGES), sorted by paper_key, into the `changes/` table."""
        self.rows += table.num_rows
        if self.writer is not None and table.num_rows:
            self.writer.write(table.sort_by(CHANGES_SORT))

    def close(self) -> None:
        for file in self.files.values():
            file.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def write_markdown(self, path: Path, parent: str | None, version: str) -> None:
        """CHANGES.md, the same text `Changes.to_markdown` gives for the same lists."""
        self.close()
        with path.open("w", encoding="utf-8") as out:
            out.write(_header(parent, version, self.added, self.removed, self.changed))
            for section in SECTIONS:
                if self.counts[section]:
                    out.write(f"\n## {section}\n\n")
                    with (self.folder / f"{section.lower()}.md").open(encoding="utf-8") as lines:
                        shutil.copyfileobj(lines, out, 1 << 20)

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def differing(was: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """The papers columns (paper_key aside) whose values differ between two rows of one paper."""
    return [n for n in PAPERS.names if n != "paper_key" and was.get(n) != row.get(n)]


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Changes:
    """Papers keyed by paper_key, old against new."""
    changes = Changes(added=sorted(new.keys() - old.keys()), removed=sorted(old.keys() - new.keys()))
    for key in sorted(old.keys() & new.keys()):
        fields = differing(old[key], new[key])
        if fields:
            changes.changed[key] = fields
    return changes


def _rows(rows: pa.Table, change: str, fields: list[list[str]], before: list[str | None]) -> pa.Table:
    """Change rows: the papers' rows of this version with their change, fields and `before`."""
    table = rows.append_column("change", pa.array([change] * rows.num_rows, pa.string()))
    table = table.append_column("fields", pa.array(fields, pa.list_(pa.string())))
    return conform(table.append_column("before", pa.array(before, pa.string())), CHANGES)


def _differs(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Per row, whether two aligned arrays of one type hold different values, as Python's `!=` on their
    `to_pylist()` values says (a null against a value differs; NaN differs from itself), vectorized: a
    struct by its fields, a list by its length and then element by element."""
    a_valid = np.asarray(pc.is_valid(a), dtype=bool)
    b_valid = np.asarray(pc.is_valid(b), dtype=bool)
    both = a_valid & b_valid
    kind = a.type
    if pa.types.is_struct(kind):
        inner = np.zeros(len(a), dtype=bool)
        for field_a, field_b in zip(a.flatten(), b.flatten(), strict=True):
            inner |= _differs(field_a, field_b)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths_a = np.asarray(pc.fill_null(pc.list_value_length(a), -1), dtype=np.int64)
        lengths_b = np.asarray(pc.fill_null(pc.list_value_length(b), -1), dtype=np.int64)
        same = both & (lengths_a == lengths_b)
        inner = ~same
        rows = pa.array(np.flatnonzero(same & (lengths_a > 0)), pa.int64())
        if len(rows):
            taken_a, taken_b = a.take(rows), b.take(rows)
            elements = _differs(pc.list_flatten(taken_a), pc.list_flatten(taken_b))
            parents = np.asarray(pc.list_parent_indices(taken_a), dtype=np.int64)
            inner[rows.to_numpy()] = np.bincount(parents, weights=elements, minlength=len(rows)) > 0
    else:
        inner = ~np.asarray(pc.fill_null(pc.equal(a, b), False), dtype=bool)
    return (a_valid != b_valid) | (both & inner)


def _changed_fields(new: pa.Table, old: pa.Table, new_rows: pa.Array, old_rows: pa.Array
                    ) -> tuple[np.ndarray, list[list[str]]]:
    """Of the papers at `new_rows` of `new`, aligned with those at `old_rows` of `old`: the positions (in
    `new_rows`) whose values differ, and for each the papers columns (paper_key aside) that differ, in
    schema order. Column by column: only one column of each side is copied out at a time (a night's
    peak memory held two whole copies of a unit's papers here)."""
    names = [n for n in PAPERS.names if n != "paper_key"]
    matrix = np.zeros((len(new_rows), len(names)), dtype=bool)
    # Both sides' rows in the same order (a unit of the parent's papers without new entries, most of a refolded
    # partition): the columns compared as they are, not copied out.
    aligned = len(new_rows) == new.num_rows == old.num_rows and np.array_equal(
        old_rows.to_numpy(zero_copy_only=False), np.arange(len(old_rows)))
    for j, name in enumerate(names):
        ours, theirs = (new.column(name), old.column(name)) if aligned else (
            new.column(name).take(new_rows), old.column(name).take(old_rows))
        matrix[:, j] = _differs(ours.combine_chunks(), theirs.combine_chunks().cast(new.schema.field(name).type))
    rows = np.flatnonzero(matrix.any(axis=1))
    return rows, [[names[j] for j in np.flatnonzero(matrix[i])] for i in rows]


def compare_tables(changes: ChangeLog, old: pa.Table | None, new: pa.Table) -> None:
    """Log the papers of `new` missing from `old` (added), those of `old` missing from `new` (removed),
    and, for those in both, the fields that differ (changed), column by column with Arrow; `old` and
    `new` hold the same key range."""
    new_keys = new.column("paper_key")
    old = old if old is not None else PAPERS.empty_table()
    position = pc.index_in(new_keys, value_set=old.column("paper_key"))
    added = new.filter(pc.is_null(position))
    changes.add("Added", [(k, []) for k in added.column("paper_key").to_pylist()])
    gone = sorted(old.column("paper_key").filter(pc.invert(pc.is_in(old.column("paper_key"),
                                                                      value_set=new_keys))).to_pylist())
    changes.add("Removed", [(k, []) for k in gone])
    tables = [_rows(added, "added", [[]] * added.num_rows, [None] * added.num_rows),
              _rows(pa.table({"paper_key": pa.array(gone, pa.string())}), "removed", [[]] * len(gone),
                    [None] * len(gone))]
    both = pc.is_valid(position)
    new_rows = pa.array(np.flatnonzero(np.asarray(both, dtype=bool)), pa.int64())
    old_rows = position.filter(both)
    # (no paper in both, as on a first version or a unit of new papers: no column to compare)
    rows, fields = _changed_fields(new, old, new_rows, old_rows) if len(new_rows) else (np.zeros(0, np.int64), [])
    changed = pa.array(rows, pa.int64())
    picked = new.take(new_rows.take(changed))
    was = old.take(old_rows.take(changed)).to_pylist()
    changes.add("Changed", list(zip(picked.column("paper_key").to_pylist(), fields, strict=True)))
    tables.append(_rows(picked, "changed", fields, [before_json(w, f) for w, f in zip(was, fields, strict=True)]))
    changes.write_rows(pa.concat_tables(tables))

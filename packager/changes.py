"""What changed between two versions' papers: added, removed, and changed (with the fields).

`Changes` holds them in memory (for `paperset diff`); `ChangeLog` writes them to files as the fold
finds them, so a first version of a million papers costs a file of keys, not a million strings in
memory, and a `changes/` Parquet table (one row a paper: added, removed, or changed with its fields)
from compact Arrow columns. Both render the same CHANGES.md text."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from packager.schema import CHANGES, CHANGES_SORT, PAPERS

# Bookkeeping columns: they move with every crawl and say nothing about the paper itself.
IGNORED = frozenset({"listings", "last_seen_at", "first_seen_at", "provisional"})
SECTIONS = ("Added", "Removed", "Changed")
COMPARE_ROWS = 2048  # rows of both versions turned into Python objects at once by compare_tables


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


class ChangeLog:
    """Added, removed and changed papers appended to one file per section as they come (in key
    order), with their counts; `write_markdown` streams CHANGES.md from them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tables: list[pa.Table] = []
        folder.mkdir(parents=True, exist_ok=True)
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.files: dict[str, IO[str]] = {s: (folder / f"{s.lower()}.md").open("w", encoding="utf-8")
                                          for s in SECTIONS}

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
        keys, fields = zip(*entries, strict=True)
        self.tables.append(pa.table({"paper_key": list(keys), "change": [section.lower()] * len(keys),
                                     "fields": list(fields)}, schema=CHANGES))

    def write_parquet(self, folder: Path) -> int:
        """The `changes/` table, rows by paper_key; its row count."""
        from packager.parts import PartWriter

        writer = PartWriter(folder, CHANGES)
        if self.tables:
            writer.write(pa.concat_tables(self.tables).sort_by(CHANGES_SORT))
        writer.close()
        rows = sum(t.num_rows for t in self.tables)
        self.tables = []
        return rows

    def close(self) -> None:
        for file in self.files.values():
            file.close()

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


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Changes:
    """Papers keyed by paper_key, old against new."""
    changes = Changes(added=sorted(new.keys() - old.keys()), removed=sorted(old.keys() - new.keys()))
    for key in sorted(old.keys() & new.keys()):
        fields = [name for name in new[key] if name not in IGNORED and old[key].get(name) != new[key].get(name)]
        if fields:
            changes.changed[key] = fields
    return changes


def compare_tables(changes: ChangeLog, old: pa.Table | None, new: pa.Table) -> None:
    """Log the papers of `new` missing from `old` (added), those of `old` missing from `new` (removed),
    and, for those in both, the fields that differ (changed); `old` and `new` hold the same key range."""
    new_keys = new.column("paper_key")
    if old is None or old.num_rows == 0:
        changes.add("Added", [(k, []) for k in new_keys.to_pylist()])
        return
    old_keys = old.column("paper_key")
    position = pc.index_in(new_keys, value_set=old_keys)
    changes.add("Added", [(k, []) for k in new_keys.filter(pc.is_null(position)).to_pylist()])
    gone = old_keys.filter(pc.invert(pc.is_in(old_keys, value_set=new_keys)))
    changes.add("Removed", [(k, []) for k in sorted(gone.to_pylist())])
    fields = [n for n in PAPERS.names if n not in IGNORED and n != "paper_key"]
    both = pc.is_valid(position)
    after = new.filter(both).select(["paper_key", *fields])
    before = old.select(fields).take(position.filter(both))
    for start in range(0, after.num_rows, COMPARE_ROWS):
        lines: list[tuple[str, list[str]]] = []
        rows = after.slice(start, COMPARE_ROWS).to_pylist()
        for row, was in zip(rows, before.slice(start, COMPARE_ROWS).to_pylist(), strict=True):
            differ = [n for n in fields if was[n] != row[n]]
            if differ:
                lines.append((row["paper_key"], differ))
        changes.add("Changed", lines)

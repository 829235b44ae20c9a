"""The crawl's spool: JSON-lines parts of accepted entries flushed as they come, and its meta.json.

A spool is a folder: `meta.json` (`schema` = paperset.spool/1, run id, times, base URL, settings, dedupe
configuration, stats; `finished_at` is null until the crawl closes it), `entries/part-NNNNN.jsonl`,
and the crawl's `rejects.jsonl`. A killed crawl leaves every flushed line; its last line may be cut.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

SCHEMA = "paperset.spool/1"
ENTRY_FIELDS = (
    "paper_key", "paper_id", "arxiv_version", "content_key", "title", "abstract", "authors", "published_at",
    "submitted_on_daily_at", "upvotes", "num_comments", "github_stars", "github_repo", "project_page",
    "thumbnail", "ai_keywords", "ai_summary", "organization", "listing_kind", "listing_key", "rank",
    "source_url", "crawled_at", "fetch_path", "cluster_id", "similarity",
)


class SpoolError(ValueError):
    """A spool that cannot be packaged as it is (unknown schema, cut line, unfinished)."""


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class SpoolWriter:
    """Appends entries to `entries/part-*.jsonl`, flushing every `flush_every` and rolling parts by size."""

    def __init__(self, folder: Path, meta: dict[str, Any], *, flush_every: int = 100,
                 part_bytes: int = 64 * 1024 * 1024) -> None:
        self.folder, self.flush_every, self.part_bytes = folder, flush_every, part_bytes
        (folder / "entries").mkdir(parents=True, exist_ok=True)
        self.meta = {"schema": SCHEMA, "started_at": datetime.now(UTC).isoformat(), "finished_at": None, **meta}
        write_json_atomic(folder / "meta.json", self.meta)
        self.part = len(list((folder / "entries").glob("part-*.jsonl")))
        self.file: IO[str] | None = None
        self.pending = 0

    def _open(self) -> IO[str]:
        if self.file is None or self.file.tell() >= self.part_bytes:
            if self.file is not None:
                self.file.close()
            self.file = (self.folder / "entries" / f"part-{self.part:05d}.jsonl").open("a", encoding="utf-8")
            self.part += 1
        return self.file

    def write(self, entry: dict[str, Any]) -> None:
        record = {name: entry.get(name) for name in ENTRY_FIELDS}
        self._open().write(json.dumps(record, ensure_ascii=False) + "\n")
        self.pending += 1
        if self.pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
        self.pending = 0

    def close(self, stats: dict[str, Any] | None = None, **extra: Any) -> None:
        self.flush()
        if self.file is not None:
            self.file.close()
        self.meta.update(finished_at=datetime.now(UTC).isoformat(), stats=stats or {}, **extra)
        write_json_atomic(self.folder / "meta.json", self.meta)


def read_meta(folder: Path) -> dict[str, Any]:
    path = folder / "meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpoolError(f"{folder}: not a spool (no meta.json)") from None
    except json.JSONDecodeError as exc:
        raise SpoolError(f"{path}: broken JSON ({exc})") from None
    if meta.get("schema") != SCHEMA:
        raise SpoolError(f"{folder}: unknown spool schema {meta.get('schema')!r} (expected {SCHEMA})")
    return meta


def spool_parts(folder: Path, *, allow_partial: bool = False) -> tuple[list[Path], bool]:
    """The spool's part files in order and whether the crawl finished; an unfinished spool is refused
    unless `allow_partial`."""
    finished = read_meta(folder).get("finished_at") is not None
    if not finished and not allow_partial:
        raise SpoolError(f"{folder}: the crawl did not finish (finished_at is null); "
                         "package what it had with --allow-partial")
    return sorted((folder / "entries").glob("part-*.jsonl")), finished


def read_entries(folder: Path, *, allow_partial: bool = False) -> Iterator[dict[str, Any]]:
    """Every entry of a spool, as dicts (the packager reads spools with Arrow, see fold.py). A cut line
    is an error, except the last line of an unfinished spool read with `allow_partial`."""
    parts, finished = spool_parts(folder, allow_partial=allow_partial)
    for n, part in enumerate(parts):
        lines = part.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            if not line:
                continue
            last = n == len(parts) - 1 and i == len(lines) - 1
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                if last and not finished:
                    continue
                raise SpoolError(f"{part}:{i + 1}: a cut or broken line") from None
            if not isinstance(entry, dict) or "paper_key" not in entry:
                raise SpoolError(f"{part}:{i + 1}: not a spool entry")
            yield entry

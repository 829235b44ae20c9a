"""Reading a spool: its meta.json, its entries as dicts, or as Arrow tables block by block (the packager's
way), always with the entry schema of paperset/spool/schema.py."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pj

from paperset.spool.errors import SpoolError
from paperset.spool.schema import ENTRY, SCHEMA

__all__ = ["SpoolError", "read_entries", "read_meta", "spool_parts", "spool_tables"]


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


def _json_tables(source: Any, where: str, *, threads: bool = True) -> Iterator[pa.Table]:
    """Arrow tables of a JSON-lines stream, read in blocks of about 8 MB (`threads`: on Arrow's pool)."""
    try:
        reader = pj.open_json(source, read_options=pj.ReadOptions(block_size=8 << 20, use_threads=threads),
                              parse_options=pj.ParseOptions(explicit_schema=ENTRY,
                                                            unexpected_field_behavior="ignore"))
        for batch in reader:
            table = pa.Table.from_batches([batch])
            if table.column("paper_key").null_count:
                raise SpoolError(f"{where}: an entry without paper_key")
            yield table.select(ENTRY.names).cast(ENTRY)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SpoolError(f"{where}: a cut or broken line ({str(exc).splitlines()[0]})") from None


def part_tables(part: Path, *, threads: bool = True) -> Iterator[pa.Table]:
    """The entries of one complete part (every line whole), as Arrow tables block by block (`threads`
    false: parsed on the calling thread only)."""
    if part.stat().st_size:
        yield from _json_tables(str(part), str(part), threads=threads)


def spool_tables(folder: Path, *, allow_partial: bool = False, skip: frozenset[Path] = frozenset()
                 ) -> Iterator[pa.Table]:
    """The spool's entries as Arrow tables, part by part, block by block (but for the parts in `skip`,
    read already). A cut line is an error, except the last line of an unfinished spool read with
    `allow_partial` (the crawl was killed while writing it)."""
    parts, finished = spool_parts(folder, allow_partial=allow_partial)
    for n, part in enumerate(parts):
        if part in skip:
            continue
        if n == len(parts) - 1 and not finished:
            data = part.read_bytes()
            whole = data[: data.rfind(b"\n") + 1]
            if whole:  # a part rolled just before the kill may hold nothing whole yet
                yield from _json_tables(io.BytesIO(whole), str(part))
        else:
            yield from part_tables(part)

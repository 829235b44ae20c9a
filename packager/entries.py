"""Reading spools with Arrow: the JSON-lines parts, block by block, read with the entry schema."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pj

from packager.schema import ENTRY
from packager.spool import SpoolError, spool_parts



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

"""The refresh sweep of `paperset run`: besides the rolling window, each night asks again the counters
of a slice of older papers, so that upvotes do not stop moving once a paper leaves the window.

Which papers: those of the parent version (ROOT/NAME/LATEST) with an arXiv id, least recently seen
first: a paper's last sighting is the later of its `last_seen_at` and the time a sweep last read it
(`ROOT/NAME/.sweep.json`, written when a run publishes or finds nothing changed: a night whose
counters did not move publishes no version, and its sweep must still count). A paper whose lookup
failed is not recorded, so it stays the least recently seen and is asked first the next night.
`PAPERSET_SWEEP_SIZE` papers a night (a run's plan asks for them): every paper is revisited within
ceil(papers / size) nights. The swept papers are the spider argument `sweep` (paperset/crawler/spiders/details.py).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SWEEP_FILE = ".sweep.json"
NEVER = datetime.min.replace(tzinfo=UTC)


def _parent_papers(dataset: Path, tonight: set[tuple[str, str]]) -> tuple[Any, int]:
    """The parent version's papers with an id that were never seen on one of `tonight`'s listings (kind,
    key): those the night's listings read anyway (an Arrow table of paper_id, last_seen_at); and how many
    papers with an id the parent holds. Columns are read and matched in Arrow: no Python object a paper."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from paperset.packager.build import latest

    version = latest(dataset)
    if version is None or not (dataset / version / "papers").is_dir():
        return None, 0
    table = ds.dataset(dataset / version / "papers", format="parquet").to_table(
        columns=["paper_id", "last_seen_at", "listings"], filter=pc.is_valid(pc.field("paper_id")))
    listings = table.column("listings").combine_chunks()
    flat = pc.list_flatten(listings)
    places = pc.binary_join_element_wise(pc.struct_field(flat, "kind"), pc.struct_field(flat, "key"), "\t")
    asked = pa.array([f"{kind}\t{key}" for kind, key in sorted(tonight)], pa.string())
    hit = pc.list_parent_indices(listings).filter(pc.fill_null(pc.is_in(places, value_set=asked), False))
    keep = pc.invert(pc.is_in(pa.array(range(table.num_rows), pa.int64()), value_set=pc.unique(hit)))
    return table.select(["paper_id", "last_seen_at"]).filter(keep), table.num_rows


def read_swept(dataset: Path) -> dict[str, str]:
    """paper_id -> when a sweep last read it (ISO, UTC); empty when no sweep ran (or the file is bad)."""
    try:
        value = json.loads((dataset / SWEEP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def pick(dataset: Path, size: int, tonight: set[tuple[str, str]] | None = None) -> tuple[list[str], int]:
    """The `size` papers to sweep tonight (least recently seen first, then by id; papers of tonight's
    listings aside) and how many papers the parent holds (the sweep's whole round)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    papers, total = _parent_papers(dataset, tonight or set())
    if size <= 0 or papers is None or papers.num_rows == 0:
        return [], total
    swept = read_swept(dataset)
    ids = papers.column("paper_id").combine_chunks()
    times = pa.array([_when(text) for text in swept.values()], pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    at = pc.take(times, pc.index_in(ids, value_set=pa.array(list(swept), pa.string())))
    seen = papers.column("last_seen_at").combine_chunks().cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    never = pa.scalar(_ms(NEVER), pa.int64())  # milliseconds: a time never seen sorts first
    when = pc.max_element_wise(pc.fill_null(seen, never), pc.fill_null(at, never))
    order = pa.table({"when": when, "paper_id": ids}).sort_by([("when", "ascending"), ("paper_id", "ascending")])
    return order.column("paper_id").slice(0, size).to_pylist(), total


def _ms(at: datetime) -> int:
    return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def _when(text: str) -> datetime:
    """An ISO time (UTC when it names no zone); never seen ('' or unreadable) sorts first."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return NEVER
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def period_nights(papers: int, size: int) -> int:
    """Nights within which every paper of the parent is revisited (0: no sweep)."""
    return math.ceil(papers / size) if size > 0 and papers > 0 else 0


def describe_period(papers: int, size: int) -> str:
    """The plan's line: `every paper within 30 nights at 400 calls a night (12,000 papers)`."""
    if size <= 0:
        return "off (PAPERSET_SWEEP_SIZE=0)"
    if papers == 0:
        return f"nothing yet (no parent version); then {size} calls a night"
    return (f"every paper within {period_nights(papers, size)} nights at {min(size, papers)} calls a night "
            f"({papers:,} papers in the parent)")


def failed(ids: list[str], coverage: list[dict[str, Any]] | None) -> list[str]:
    """The swept papers whose lookup ended incomplete (their `details <id>` listing)."""
    short = {r["key"] for r in coverage or [] if r["kind"] == "details" and r["status"] == "incomplete"}
    return [i for i in ids if i in short]


def record(dataset: Path, ids: list[str], coverage: list[dict[str, Any]] | None, at: datetime) -> int:
    """Note the papers this run's sweep read (all asked but the failed); how many were noted."""
    from paperset.spool.writer import write_json_atomic

    if not ids:
        return 0
    bad = set(failed(ids, coverage))
    read = [i for i in ids if i not in bad]
    swept = read_swept(dataset)
    stamp = at.isoformat()
    swept.update(dict.fromkeys(read, stamp))
    write_json_atomic(dataset / SWEEP_FILE, dict(sorted(swept.items())))
    return len(read)


def apply_sweep(args: Any, settings: Any, tonight: set[tuple[str, str]]) -> dict[str, Any] | None:
    """With `--recent` or `--sweep`, pick tonight's papers (besides the listings `tonight` asks, as (kind,
    key)) into `args.sweep_ids` (an empty list otherwise) and return the sweep's size and the parent's
    paper count (None when not sweeping)."""
    from paperset.app.config import AppConfig
    from paperset.packager.build import dataset_path

    args.sweep_ids = []
    if not (getattr(args, "recent", False) or getattr(args, "sweep", False)):
        return None
    size = AppConfig.from_settings(settings).sweep_size
    ids, papers = pick(dataset_path(args.out, args.name), size, tonight)
    args.sweep_ids = ids
    return {"size": size, "papers": papers, "ids": ids}


def recorded(dataset: Path, ids: list[str], coverage: list[dict[str, Any]] | None,
             outcome: dict[str, Any]) -> dict[str, Any]:
    """The run's outcome, the sweep recorded first when the run published or found nothing changed (a
    run that published nothing else leaves the sweep's order as it was: its papers are asked again)."""
    if outcome["outcome"] in ("published", "unchanged"):
        record(dataset, ids, coverage, datetime.now(UTC))
    return outcome

"""The item dataclass: one listing entry as a spider yields it, with the fields of the spool's entry schema."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, make_dataclass
from typing import Any

from paperset.spool.schema import ENTRY, python_type


def _to_dict(self: Any) -> dict[str, Any]:
    """A plain dict (JSON-ready) of every field."""
    return asdict(self)


# One paper as seen on one listing (day, week, month, trending, search or paper page): a field per entry
# field of paperset/spool/schema.py, in that order, each None until known (never ""). `listing_kind`, `listing_key`
# and `rank` say where the entry was seen; `source_url` is the page (or API answer) it came from;
# `fetch_path` is how that listing was fetched (`api`, `page`, `browser`). Extraction leaves
# `arxiv_version`, `content_key`, `paper_key`, `cluster_id` and `similarity` to the cleaning pipelines.
# `source_json` (not a field: never spooled, compared or exported) is the site's item the entry was read
# from, as exact JSON bytes, when nothing else set its paper's fields (an API answer's or a listing page's
# element read by orjson; else None): the same bytes give the same paper's fields, so the cleaning steps
# key their memos on them (paperset/crawler/clean/memo.py) instead of writing the fields out again.
PaperEntry: Any = make_dataclass(
    "PaperEntry",
    [(f.name, python_type(f.type) | None, field(default=None)) for f in ENTRY],
    namespace={"to_dict": _to_dict, "source_json": None,
               "__doc__": "One paper as seen on one listing; fields: paperset/spool/schema.py ENTRY."},
)
PaperEntry.__module__ = __name__  # pickling and reprs find it here


@dataclass
class EntryBatch:
    """The entries one response gave, as one Scrapy item. Scrapy's machinery runs per item (the spider
    middlewares' generators, the item signals, the pipeline chain), ~50 µs an item: a search page's hundred
    entries cost more there than in paperset's own cleaning (bench/README.md). The pipelines' manager
    (paperset/crawler/tracking/items_left.py) runs each pipeline over the batch's entries, one step at a
    time; an entry a step drops leaves the batch and is reported as Scrapy reports a dropped item (the
    `item_dropped` signal: its stats, the rejects file). The stat `item_scraped_count` counts entries."""

    entries: list[Any]
    failed: int = 0  # entries a pipeline step failed on (not dropped): the response's request is not done

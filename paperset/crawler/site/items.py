"""The item dataclass: one listing entry as a spider yields it, with the fields of the spool's entry schema."""

from __future__ import annotations

from dataclasses import asdict, field, make_dataclass
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
PaperEntry: Any = make_dataclass(
    "PaperEntry",
    [(f.name, python_type(f.type) | None, field(default=None)) for f in ENTRY],
    namespace={"to_dict": _to_dict, "__doc__": "One paper as seen on one listing; fields: "
                                                "paperset/spool/schema.py ENTRY."},
)
PaperEntry.__module__ = __name__  # pickling and reprs find it here

"""The Hub links tables' explicit Arrow schemas (issue 24, docs/links.md), with a description on every field.

Layout, change-only: a night writes what changed, not every link again.
- `links` and `collections` are intervals: one row per (paper, repo) or (paper, collection) stretch of
  time, opened (`first_seen_at`) the night the link is first seen and closed (`removed_at`) the night a
  complete lookup no longer finds it; a link that comes back opens a new row. A paper cited by 300 Spaces
  costs 300 rows once, and nothing on a night when nothing moved.
- `link_totals` and `repo_counters` are observations kept only when they differ from the previous one of
  the same paper (repo): the totals over time are the rows themselves, and a night of no change adds none.
- `link_status` is one row per paper ever looked up: whether its links are known, and since when.
Times are the night's packaging time, the same for every row a night writes.
"""

from __future__ import annotations

import pyarrow as pa

from paperset.spool.schema import TS


def _field(name: str, kind: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"description": description})


_PAPER = _field("paper_id", pa.string(), "arXiv id of the cited paper", False)

LINKS = pa.schema([
    _PAPER,
    _field("repo_type", pa.string(), "model, dataset or space", False),
    _field("repo_id", pa.string(), "the repo citing the paper (owner/name)", False),
    _field("first_seen_at", TS, "the night the link was first seen (this stretch)", False),
    _field("removed_at", TS, "the first night a complete lookup no longer found it; null while linked"),
])
COLLECTIONS = pa.schema([
    _PAPER,
    _field("collection_slug", pa.string(), "the collection holding the paper (owner/title-id)", False),
    _field("title", pa.string(), "the collection's title when first seen"),
    _field("owner", pa.string(), "the user or organization owning the collection"),
    _field("first_seen_at", TS, "the night the paper was first seen in it (this stretch)", False),
    _field("removed_at", TS, "the first night a complete lookup no longer found it; null while held"),
])
LINK_TOTALS = pa.schema([
    _PAPER,
    _field("observed_at", TS, "the night these totals were first seen (kept until the next row)", False),
    _field("num_models", pa.int32(), "numTotalModels: models citing the paper", False),
    _field("num_datasets", pa.int32(), "numTotalDatasets: datasets citing the paper", False),
    _field("num_spaces", pa.int32(), "numTotalSpaces: Spaces citing the paper", False),
])
REPO_COUNTERS = pa.schema([
    _field("repo_type", pa.string(), "model, dataset or space", False),
    _field("repo_id", pa.string(), "the repo (owner/name)", False),
    _field("observed_at", TS, "the night these counters were first seen (kept until the next row)", False),
    _field("likes", pa.int64(), "likes then (null when the site gave none)"),
    _field("downloads", pa.int64(), "downloads then (null when the site gave none)"),
])
LINK_STATUS = pa.schema([
    _PAPER,
    _field("status", pa.string(), "known (the last lookup was complete) or unknown (it failed: not 0 links)",
           False),
    _field("reason", pa.string(), "why the last lookup failed (unknown only)"),
    _field("since", TS, "the night the paper got this status", False),
])

LINK_TABLES = {"links": LINKS, "link_totals": LINK_TOTALS, "repo_counters": REPO_COUNTERS,
               "collections": COLLECTIONS, "link_status": LINK_STATUS}
# Rows sorted by these, so that unchanged tables give identical bytes night after night.
SORT = {"links": ["paper_id", "repo_type", "repo_id", "first_seen_at"],
        "link_totals": ["paper_id", "observed_at"], "repo_counters": ["repo_type", "repo_id", "observed_at"],
        "collections": ["paper_id", "collection_slug", "first_seen_at"], "link_status": ["paper_id"]}
REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}

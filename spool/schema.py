"""The spool contract's one definition of an entry: its fields, their Arrow types and the values they may
hold. The crawl's item (crawler/items.py), its validation, the spool writer and readers, and the
packager's snapshot schemas all read it."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa

# The spool format: a spool's meta.json names it; readers refuse any other.
SCHEMA = "paperset.spool/1"
TS = pa.timestamp("ms", tz="UTC")

# A spool entry, as the crawl writes it and the packager reads it. Validation (crawler/pipelines/validate.py)
# accepts a value only when `entry_value_problem` finds none, so whatever it lets through can be stored.
ENTRY = pa.schema([
    ("paper_key", pa.string()), ("paper_id", pa.string()), ("arxiv_version", pa.int32()),
    ("content_key", pa.string()), ("title", pa.string()), ("abstract", pa.string()),
    ("authors", pa.list_(pa.string())), ("published_at", TS), ("submitted_on_daily_at", TS),
    ("upvotes", pa.int64()), ("num_comments", pa.int64()), ("github_stars", pa.int64()),
    ("github_repo", pa.string()), ("project_page", pa.string()), ("thumbnail", pa.string()),
    ("ai_keywords", pa.list_(pa.string())), ("ai_summary", pa.string()), ("organization", pa.string()),
    ("listing_kind", pa.string()), ("listing_key", pa.string()), ("rank", pa.int32()),
    ("source_url", pa.string()), ("crawled_at", TS), ("fetch_path", pa.string()), ("cluster_id", pa.string()),
    ("similarity", pa.float64()),
    # What only a paper's page shows (its `PaperContent` props), null from every other source.
    ("upvoters", pa.list_(pa.string())), ("daily_paper_rank", pa.int32()),
])
# The order of an entry's fields: a spool line's keys, the item's attributes.
ENTRY_FIELDS: tuple[str, ...] = tuple(ENTRY.names)
# Counts and positions: never below 0 (their upper bound is their Arrow type's).
NON_NEGATIVE = frozenset({"arxiv_version", "upvotes", "num_comments", "github_stars", "rank", "daily_paper_rank"})


def int_bounds(kind: pa.DataType) -> tuple[int, int]:
    """The smallest and largest value an Arrow integer type holds."""
    bits = kind.bit_width
    if pa.types.is_signed_integer(kind):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def entry_value_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be stored in the entry field `name` (its Arrow type and range), or None. Times
    are ISO text in an entry; their range is the validator's date rule."""
    if value is None or name not in ENTRY.names:
        return None
    kind = ENTRY.field(name).type
    if pa.types.is_integer(kind):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} is {type(value).__name__}, not a whole number"
        low, high = int_bounds(kind)
        low = max(low, 0) if name in NON_NEGATIVE else low
        if not low <= value <= high:
            return f"{name} = {value} is outside {low}..{high} ({kind})"
    elif pa.types.is_floating(kind):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return f"{name} = {value!r} is not a finite number"
    elif pa.types.is_string(kind) or pa.types.is_timestamp(kind):
        if not isinstance(value, str):
            return f"{name} is {type(value).__name__}, not text"
    elif pa.types.is_list(kind) and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return f"{name} is not a list of text"
    return None


def python_type(kind: pa.DataType) -> type:
    """The Python type an entry holds for an Arrow type (times are ISO text until the packager parses them)."""
    if pa.types.is_integer(kind):
        return int
    if pa.types.is_floating(kind):
        return float
    if pa.types.is_list(kind):
        return list
    return str

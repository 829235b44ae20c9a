"""The explicit Arrow schemas: a spool entry (and what a value must be to be stored in it, which the
crawl's validation reads), the snapshot's Parquet tables with a description on every field, the sort keys."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")


def _field(name: str, kind: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"description": description})


LISTING = pa.struct([
    _field("kind", pa.string(), "day, week, month, trending, search or paper"),
    _field("key", pa.string(), "the listing's date, ISO week, month, query, or paper id"),
    _field("rank", pa.int32(), "0-based position on the listing"),
    _field("seen_at", TS, "when the crawl saw it"),
])


# A spool entry as the packager reads it. Validation (crawler/pipelines/validate.py) accepts a value only
# when `entry_value_problem` finds none, so whatever it lets through can be stored.
ENTRY = pa.schema([
    ("paper_key", pa.string()), ("paper_id", pa.string()), ("arxiv_version", pa.int32()),
    ("content_key", pa.string()), ("title", pa.string()), ("abstract", pa.string()),
    ("authors", pa.list_(pa.string())), ("published_at", TS), ("submitted_on_daily_at", TS),
    ("upvotes", pa.int64()), ("num_comments", pa.int64()), ("github_stars", pa.int64()),
    ("github_repo", pa.string()), ("project_page", pa.string()), ("thumbnail", pa.string()),
    ("ai_keywords", pa.list_(pa.string())), ("ai_summary", pa.string()), ("organization", pa.string()),
    ("listing_kind", pa.string()), ("listing_key", pa.string()), ("rank", pa.int32()),
    ("crawled_at", TS), ("fetch_path", pa.string()), ("cluster_id", pa.string()), ("similarity", pa.float64()),
])
# Counts and positions: never below 0 (their upper bound is their Arrow type's).
NON_NEGATIVE = frozenset({"arxiv_version", "upvotes", "num_comments", "github_stars", "rank"})


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


def _stored(name: str, description: str, nullable: bool = True) -> pa.Field:
    """A snapshot field holding an entry field: its type is the entry's, defined once above."""
    return _field(name, ENTRY.field(name).type, description, nullable)


PAPERS = pa.schema([
    _stored("paper_key", "the row's identity: the paper id, or ck: + content_key", False),
    _stored("paper_id", "arXiv id (2409.12568, hep-th/9901001); null for entries seen without one"),
    _stored("arxiv_version", "the vN suffix the id was seen with, if any"),
    _stored("content_key", "hash of the normalized title and abstract"),
    _stored("title", "title, normalized (NFC, whitespace collapsed)"),
    _stored("abstract", "abstract, normalized"),
    _stored("authors", "author names in order"),
    _stored("published_at", "arXiv publication time (UTC)"),
    _stored("submitted_on_daily_at", "when it was submitted to Daily Papers (UTC)"),
    _stored("upvotes", "upvotes at the latest observation"),
    _stored("num_comments", "comments at the latest observation"),
    _stored("github_stars", "GitHub stars at the latest observation"),
    _stored("github_repo", "GitHub repository URL"),
    _stored("project_page", "project page URL"),
    _stored("thumbnail", "thumbnail URL"),
    _stored("ai_keywords", "keywords the site generated"),
    _stored("ai_summary", "one-sentence summary the site generated"),
    _stored("organization", "the organization the paper is listed under"),
    _field("first_seen_at", TS, "first observation"),
    _field("last_seen_at", TS, "latest observation"),
    _field("listings", pa.list_(LISTING), "every listing the paper was seen on"),
    _stored("cluster_id", "near-duplicate cluster, named by its smallest paper_key, if any"),
    _stored("similarity", "highest estimated Jaccard similarity of its links to other members"),
    _field("provisional", pa.bool_(), "true while counters still move (listed within the recrawl window)", False),
])

OBSERVATIONS = pa.schema([
    _stored("paper_key", "the paper (papers.paper_key)", False),
    _stored("paper_id", "arXiv id, null for id-less entries"),
    _field("observed_at", TS, "when the crawl saw the counters", False),
    _stored("upvotes", "upvotes then"),
    _stored("num_comments", "comments then"),
    _stored("github_stars", "GitHub stars then"),
    _stored("listing_kind", "where it was seen: day, week, month, trending, search, paper"),
    _stored("listing_key", "the listing's date, week, month, query or paper id"),
    _stored("rank", "0-based position on that listing"),
    _stored("fetch_path", "api, page or browser"),
])

CHANGES = pa.schema([
    _field("paper_key", pa.string(), "the paper (papers.paper_key)", False),
    _field("change", pa.string(), "added, removed or changed", False),
    _field("fields", pa.list_(pa.string()), "the fields that changed (changed only)"),
])

# A version's tables, in the order the card, Croissant and the manifest list them.
TABLES = {"papers": PAPERS, "observations": OBSERVATIONS, "changes": CHANGES}

# Rows are sorted by these so that unchanged data gives identical bytes.
PAPERS_SORT = [("paper_key", "ascending")]
OBSERVATIONS_SORT = [("paper_key", "ascending"), ("observed_at", "ascending"), ("listing_kind", "ascending"),
                     ("listing_key", "ascending"), ("rank", "ascending")]
CHANGES_SORT = [("paper_key", "ascending")]
# An observation is new information only when the counters differ from an earlier one of the same
# paper on the same listing position: re-crawling unchanged data adds nothing (and publishes nothing).
OBSERVATION_IDENTITY = ("paper_key", "listing_kind", "listing_key", "rank", "upvotes", "num_comments",
                        "github_stars")


def fingerprint(schema: pa.Schema) -> str:
    """A short stable hash of a schema (names, types, nullability, descriptions)."""
    text = "\n".join(f"{f.name}:{f.type}:{f.nullable}:{(f.metadata or {}).get(b'description', b'').decode()}"
                     for f in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

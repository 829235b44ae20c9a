"""The snapshot's explicit Arrow schemas, with a description on every field, and the sort keys. The fields
that hold an entry's values take their types from the spool contract's entry schema (spool/schema.py)."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from spool.schema import ENTRY, TS


def _field(name: str, kind: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"description": description})


LISTING = pa.struct([
    _field("kind", pa.string(), "day, week, month, trending, search or paper"),
    _field("key", pa.string(), "the listing's date, ISO week, month, query, or paper id"),
    _field("rank", pa.int32(), "0-based position on the listing"),
    _field("seen_at", TS, "when the crawl saw it"),
])


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
    _stored("upvoters", "user names the paper's page shows as upvoters at its latest page read (a preview, "
                        "not all of `upvotes`); null unless the page was read (--details on the page path)"),
    _stored("daily_paper_rank", "the paper's rank of its Daily Papers day as its page shows it (1 = top); "
                                "null unless the page was read"),
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


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A parent's table in this schema: the fields a parent written before they existed come as nulls."""
    for name in schema.names:
        if name not in table.column_names:
            table = table.append_column(schema.field(name), pa.nulls(table.num_rows, schema.field(name).type))
    return table.select(schema.names).cast(schema)


def fingerprint(schema: pa.Schema) -> str:
    """A short stable hash of a schema (names, types, nullability, descriptions)."""
    text = "\n".join(f"{f.name}:{f.type}:{f.nullable}:{(f.metadata or {}).get(b'description', b'').decode()}"
                     for f in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

"""The snapshot's explicit Parquet schemas, with a description on every field, and the sort keys."""

from __future__ import annotations

import hashlib

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

PAPERS = pa.schema([
    _field("paper_key", pa.string(), "the row's identity: the paper id, or ck: + content_key", False),
    _field("paper_id", pa.string(), "arXiv id (2409.12568, hep-th/9901001); null for entries seen without one"),
    _field("arxiv_version", pa.int32(), "the vN suffix the id was seen with, if any"),
    _field("content_key", pa.string(), "hash of the normalized title and abstract"),
    _field("title", pa.string(), "title, normalized (NFC, whitespace collapsed)"),
    _field("abstract", pa.string(), "abstract, normalized"),
    _field("authors", pa.list_(pa.string()), "author names in order"),
    _field("published_at", TS, "arXiv publication time (UTC)"),
    _field("submitted_on_daily_at", TS, "when it was submitted to Daily Papers (UTC)"),
    _field("upvotes", pa.int64(), "upvotes at the latest observation"),
    _field("num_comments", pa.int64(), "comments at the latest observation"),
    _field("github_stars", pa.int64(), "GitHub stars at the latest observation"),
    _field("github_repo", pa.string(), "GitHub repository URL"),
    _field("project_page", pa.string(), "project page URL"),
    _field("thumbnail", pa.string(), "thumbnail URL"),
    _field("ai_keywords", pa.list_(pa.string()), "keywords the site generated"),
    _field("ai_summary", pa.string(), "one-sentence summary the site generated"),
    _field("organization", pa.string(), "the organization the paper is listed under"),
    _field("first_seen_at", TS, "first observation"),
    _field("last_seen_at", TS, "latest observation"),
    _field("listings", pa.list_(LISTING), "every listing the paper was seen on"),
    _field("cluster_id", pa.string(), "near-duplicate cluster, named by its smallest paper_key, if any"),
    _field("similarity", pa.float64(), "highest estimated Jaccard similarity of its links to other members"),
    _field("provisional", pa.bool_(), "true while counters still move (listed within the recrawl window)", False),
])

OBSERVATIONS = pa.schema([
    _field("paper_key", pa.string(), "the paper (papers.paper_key)", False),
    _field("paper_id", pa.string(), "arXiv id, null for id-less entries"),
    _field("observed_at", TS, "when the crawl saw the counters", False),
    _field("upvotes", pa.int64(), "upvotes then"),
    _field("num_comments", pa.int64(), "comments then"),
    _field("github_stars", pa.int64(), "GitHub stars then"),
    _field("listing_kind", pa.string(), "where it was seen: day, week, month, trending, search, paper"),
    _field("listing_key", pa.string(), "the listing's date, week, month, query or paper id"),
    _field("rank", pa.int32(), "0-based position on that listing"),
    _field("fetch_path", pa.string(), "api, page or browser"),
])

# Rows are sorted by these so that unchanged data gives identical bytes.
PAPERS_SORT = [("paper_key", "ascending")]
OBSERVATIONS_SORT = [("paper_key", "ascending"), ("observed_at", "ascending"), ("listing_kind", "ascending"),
                     ("listing_key", "ascending"), ("rank", "ascending")]
# An observation is new information only when the counters differ from an earlier one of the same
# paper on the same listing position: re-crawling unchanged data adds nothing (and publishes nothing).
OBSERVATION_IDENTITY = ("paper_key", "listing_kind", "listing_key", "rank", "upvotes", "num_comments",
                        "github_stars")


def fingerprint(schema: pa.Schema) -> str:
    """A short stable hash of a schema (names, types, nullability, descriptions)."""
    text = "\n".join(f"{f.name}:{f.type}:{f.nullable}:{(f.metadata or {}).get(b'description', b'').decode()}"
                     for f in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

"""The snapshot's explicit Arrow schemas, with a description on every field, and the sort keys. The fields
that hold an entry's values take their types from the spool contract's entry schema (paperset/spool/schema.py)."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from paperset.packager.derive import RULES
from paperset.spool.fields import BY_NAME, PAPERS_TABLE, in_table
from paperset.spool.schema import ENTRY, TS


def _field(name: str, kind: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"description": description})


LISTING = pa.struct([
    _field("kind", pa.string(), "day, week, month, trending, search or paper"),
    _field("key", pa.string(), "the listing as the site names it: a date, ISO week (2025-W10), month "
                               "(2025-03), query, or paper id; text whatever the kind, see `date`"),
    _field("rank", pa.int32(), "0-based position on the listing"),
    _field("seen_at", TS, "when a crawl first saw the paper at this place (crawl time, not a listing date)"),
    _field("date", pa.date32(), RULES["listing_date"]),
])


def _stored(name: str, description: str | None = None, nullable: bool = True) -> pa.Field:
    """A snapshot field holding an entry field: its type (and unless given, its description) the field
    table's (paperset/spool/fields.py)."""
    return _field(name, ENTRY.field(name).type, description or BY_NAME[name].description, nullable)


_FIRST = pa.schema([
    _stored("paper_key", nullable=False),
    _stored("paper_id"),
    _stored("content_key"),
    _stored("title"),
    _stored("abstract"),
    _stored("authors"),
    _stored("published_at"),
    _stored("submitted_on_daily_at"),
    _field("daily_date", pa.date32(), RULES["daily_date"]),
    _stored("upvotes"),
    _stored("num_comments"),
    _stored("github_stars"),
    _stored("github_repo"),
    _field("github_full_name", pa.string(), "the repository of github_repo as owner/name (lower case, no "
                                            "trailing path): the column to join on"),
    _stored("project_page"),
    _stored("thumbnail"),
    _stored("ai_keywords"),
    _stored("ai_summary"),
    _stored("organization"),
    _field("population", pa.string(), RULES["population"], False),
    _field("keyless", pa.bool_(), "true for a ck: row: an entry seen without an arXiv id (no id, authors, "
                                  "dates or upvotes as a rule)", False),
    _stored("upvoters"),
    _stored("daily_paper_rank"),
    _field("first_seen_at", TS, "when a crawl first saw the paper (crawl time, not a listing date)"),
    _field("last_seen_at", TS, "the paper's latest observation: the last crawl that saw something new (counters, "
                               "listing or position); a re-crawl that sees nothing new does not move it"),
    _field("listings", pa.list_(LISTING), "every listing the paper was seen on"),
    _stored("cluster_id"),
    _stored("similarity"),
    _field("cluster_relation", pa.string(), RULES["cluster_relation"]),
    _field("provisional", pa.bool_(), RULES["provisional"]),
])
# The field table's other papers columns (the 2026 fields and any added later), at the end: a column is
# only ever added, nullable (docs/snapshots.md).
_LISTED = set(_FIRST.names)
PAPERS = pa.schema([*_FIRST, *(_stored(f.name) for f in in_table(PAPERS_TABLE) if f.name not in _LISTED)])

OBSERVATIONS = pa.schema([
    _stored("paper_key", "the paper (papers.paper_key)", False),
    _stored("paper_id", "arXiv id, null for id-less entries"),
    _field("observed_at", TS, "when the crawl saw the counters", False),
    _stored("upvotes", "upvotes then"),
    _stored("num_comments", "comments then"),
    _stored("github_stars", "GitHub stars then"),
    _stored("listing_kind", "where it was seen: day, week, month, trending, search, paper"),
    _stored("listing_key", "the listing's date, week, month, query or paper id (text)"),
    _field("listing_date", pa.date32(), RULES["listing_date"]),
    _stored("rank", "0-based position on that listing"),
    _stored("fetch_path", "api, page or browser"),
    _field("version", pa.string(), "the version that first held this observation (the table is cumulative: "
                                   "over many versions, keep the rows whose version is the folder's own)"),
])

# The papers' columns a change row carries (the paper's row in this version), after its own three.
CHANGES = pa.schema([
    _field("paper_key", pa.string(), "the paper (papers.paper_key)", False),
    _field("change", pa.string(), "added, removed or changed", False),
    _field("fields", pa.list_(pa.string()), "the papers columns whose value differs from the parent's "
                                            "(changed only; every column counts)"),
    *[f.with_nullable(True).with_metadata(
        {"description": f"{(f.metadata or {}).get(b'description', b'').decode()} (this version's value; null "
                        "for removed)"}) for f in PAPERS if f.name != "paper_key"],
    _field("before", pa.string(), "JSON object: the parent's value of each changed field (changed only)"),
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

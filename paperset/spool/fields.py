"""The one table of an entry's fields: for each column its name, Arrow type, the source keys it is read
from (in a daily-papers API item, a paper object, or a page's hydration props, which carry the same
objects), how it is normalized, its description and the tables that hold it. The spool's entry schema
(paperset/spool/schema.py), the snapshot's Parquet schemas (paperset/packager/tables.py), the extraction
(paperset/crawler/site/pages.py), the normalizer (paperset/crawler/clean/fields.py), the key census and the field
table in docs/dataset.md (scripts/fields_doc.py) all derive from it.

A new column is one `Field` here (nullable: older versions read it as null, docs/snapshots.md), the
extraction of an unusual source shape if it needs one, and the fixture cases regenerated with
`paperset fixture update`. Inside structs a column is named by its source key in snake case (`_id` is
`id`, `avatarUrl` is `avatar_url`), which is how the normalizer finds its source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")

# Keys whose value depends on who is looking (the crawl is anonymous): never kept, never counted as
# unmapped.
VIEWER_DEPENDENT = frozenset({"isUserFollowing", "isLikedByUser"})

# A user reference (who submitted a paper, a claimed author's account), as the site serves it.
USER = pa.struct([
    ("id", pa.string()), ("name", pa.string()), ("fullname", pa.string()), ("type", pa.string()),
    ("is_pro", pa.bool_()), ("avatar_url", pa.string()), ("user", pa.string()), ("is_hf", pa.bool_()),
    ("is_hf_admin", pa.bool_()), ("is_mod", pa.bool_()), ("follower_count", pa.int64()),
])
AUTHOR = pa.struct([
    ("id", pa.string()), ("name", pa.string()), ("hidden", pa.bool_()), ("status", pa.string()),
    ("status_last_changed_at", TS), ("user", USER),
])
ORGANIZATION = pa.struct([("id", pa.string()), ("name", pa.string()), ("fullname", pa.string()),
                          ("avatar", pa.string())])

ENTRY_TABLE, PAPERS_TABLE, OBSERVATIONS_TABLE = "entry", "papers", "observations"
BOTH = (ENTRY_TABLE, PAPERS_TABLE)


@dataclass(frozen=True)
class Field:
    """One column. `source`: where its value is read, tried in order, each `paper.KEY` (the paper
    object), `item.KEY` (the listing item around it; the paper itself for a bare paper object) or
    `wrapper.KEY` (the listing item only); empty for a column the crawl or the cleaning fills.
    `normalize`: text, names (author objects to their names), org_name (an organization object to its
    name), text_list, url, date, count, id, bool or nested (a struct or list of structs, field by
    field); `crawl` for values the crawl makes."""

    name: str
    type: pa.DataType
    source: tuple[str, ...]
    normalize: str
    description: str
    tables: tuple[str, ...] = BOTH

    @property
    def source_keys(self) -> str:
        return ", ".join(f"`{s}`" for s in self.source) or "(crawl)"


def _f(name: str, kind: pa.DataType, source: str, normalize: str, description: str,
       tables: tuple[str, ...] = BOTH) -> Field:
    return Field(name, kind, tuple(s for s in source.split() if s), normalize, description, tables)


_E = (ENTRY_TABLE,)
_EO = (ENTRY_TABLE, OBSERVATIONS_TABLE)
_EPO = (ENTRY_TABLE, PAPERS_TABLE, OBSERVATIONS_TABLE)

# The entry's fields in spool order (a spool line's keys). New columns go at the end.
FIELDS: tuple[Field, ...] = (
    _f("paper_key", pa.string(), "", "crawl", "the row's identity: the paper id, or ck: + content_key for a "
       "keyless entry", _EPO),
    _f("paper_id", pa.string(), "paper.id", "id", "arXiv id (2409.12568, hep-th/9901001), without a version "
       "suffix (the source gives none); null for keyless entries", _EPO),
    _f("arxiv_version", pa.int32(), "", "crawl", "arXiv version, when the id carried one", _E),
    _f("content_key", pa.string(), "", "crawl", "hash of the normalized title and abstract"),
    _f("title", pa.string(), "paper.title item.title", "text", "title, normalized (NFC, whitespace collapsed)"),
    _f("abstract", pa.string(), "paper.summary item.summary", "text",
       "abstract, normalized; its licence is the one the authors chose on arXiv"),
    _f("authors", pa.list_(pa.string()), "paper.authors", "names", "author names in order"),
    _f("published_at", TS, "paper.publishedAt item.publishedAt", "date", "arXiv publication time (UTC)"),
    _f("submitted_on_daily_at", TS, "paper.submittedOnDailyAt item.submittedOnDailyAt", "date",
       "when it was submitted to Daily Papers (UTC), as the site gives it; often missing before 2025-03"),
    _f("upvotes", pa.int64(), "paper.upvotes", "count", "upvotes at the latest observation", _EPO),
    _f("num_comments", pa.int64(), "item.numComments", "count", "comments at the latest observation", _EPO),
    _f("github_stars", pa.int64(), "paper.githubStars", "count", "GitHub stars at the latest observation", _EPO),
    _f("github_repo", pa.string(), "paper.githubRepo item.githubRepo", "url",
       "GitHub repository URL as the site gives it"),
    _f("project_page", pa.string(), "paper.projectPage item.projectPage", "url", "project page URL"),
    _f("thumbnail", pa.string(), "item.thumbnail", "url", "thumbnail URL"),
    _f("ai_keywords", pa.list_(pa.string()), "paper.ai_keywords", "text_list", "keywords the site generated"),
    _f("ai_summary", pa.string(), "paper.ai_summary item.ai_summary", "text",
       "one-sentence summary the site generated"),
    _f("organization", pa.string(), "paper.organization item.organization", "org_name",
       "the organization the paper is listed under (its name; the whole object: organization_info)"),
    _f("listing_kind", pa.string(), "", "crawl", "where it was seen: day, week, month, trending, search, paper",
       _EO),
    _f("listing_key", pa.string(), "", "crawl", "the listing's date, week, month, query or paper id (text)", _EO),
    _f("rank", pa.int32(), "", "crawl", "0-based position on that listing", _EO),
    _f("source_url", pa.string(), "", "crawl", "the page or API answer the entry came from", _E),
    _f("crawled_at", TS, "", "crawl", "when the crawl saw it", _E),
    _f("fetch_path", pa.string(), "", "crawl", "api, page or browser", _EO),
    _f("cluster_id", pa.string(), "", "crawl", "near-duplicate cluster, named by its smallest paper_key, if "
       "any; members are linked, not merged: see cluster_relation"),
    _f("similarity", pa.float64(), "", "crawl", "highest estimated Jaccard similarity of its links to other "
       "members"),
    # The 2026 fields (issue 28): kept as the site gives them, text cleaned, times in UTC.
    _f("item_published_at", TS, "wrapper.publishedAt", "date", "the daily item's own publishedAt (UTC): "
       "differs from published_at, the paper's, by the US-Eastern offset; null off daily listings"),
    _f("discussion_id", pa.string(), "paper.discussionId", "text", "the paper's discussion thread id (24 hex)"),
    _f("submitted_on_daily_by", USER, "paper.submittedOnDailyBy", "nested",
       "who submitted the paper to Daily Papers (a user reference)"),
    _f("submitted_by", USER, "wrapper.submittedBy", "nested",
       "who submitted the daily item, as the listing item says (a user reference; follower_count as last seen)"),
    _f("author_details", pa.list_(AUTHOR), "paper.authors", "nested",
       "the author objects in order: id, name, hidden, and for a claimed authorship its status, when it "
       "last changed and the claiming user"),
    _f("media_urls", pa.list_(pa.string()), "paper.mediaUrls item.mediaUrls", "text_list",
       "images and videos the submitter attached"),
    _f("ai_summary_model", pa.string(), "paper.ai_summary_model", "text",
       "the model that wrote ai_summary (filled later than the listing)"),
    _f("github_repo_added_by", pa.string(), "paper.githubRepoAddedBy", "text",
       "who linked github_repo: auto or user"),
    _f("is_author_participating", pa.bool_(), "wrapper.isAuthorParticipating", "bool",
       "whether an author takes part in the paper's discussion"),
    _f("withdrawn_at", TS, "paper.withdrawnAt", "date", "when the paper was withdrawn (UTC), if it was"),
    _f("organization_info", ORGANIZATION, "paper.organization item.organization", "nested",
       "the organization object: id, name, fullname, avatar"),
    _f("paper_source", pa.string(), "paper.source", "text", "where the site took the paper from (`source`)"),
    # What only a paper's page shows (its `PaperContent` props, paperset/crawler/site/paper_extras.py), null from
    # every other source.
    _f("upvoters", pa.list_(pa.string()), "", "crawl", "user names the paper's page shows as upvoters at its "
       "latest page read (a preview, not all of `upvotes`); null unless the page was read (--details on the "
       "page path)"),
    _f("daily_paper_rank", pa.int32(), "", "crawl", "the paper's rank of its Daily Papers day as its page shows "
       "it (1 = top); null unless the page was read"),
)

BY_NAME = {f.name: f for f in FIELDS}
# The columns read from the site, and those of each normalization.
SOURCED = tuple(f for f in FIELDS if f.source)


def of_kind(*kinds: str) -> tuple[str, ...]:
    """The names of the fields normalized as one of `kinds`, in table order."""
    return tuple(f.name for f in FIELDS if f.normalize in kinds)


def in_table(table: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if table in f.tables)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=1024)
def column_name(key: str) -> str:
    """A source key's column name inside a struct: `_id` is `id`, `avatarUrl` is `avatar_url`."""
    return _CAMEL.sub("_", key.lstrip("_")).lower()


def mapped_keys() -> dict[str, frozenset[str]]:
    """Which source keys the table maps, by where they sit: `item`, `paper`, and for each nested field
    its struct's keys (`paper.authors[]`, `paper.submittedOnDailyBy`, ...), in column names."""
    out: dict[str, set[str]] = {"item": set(), "paper": set()}
    for f in SOURCED:
        for source in f.source:
            where, key = source.split(".", 1)
            out["item" if where in ("item", "wrapper") else "paper"].add(key)
    return {k: frozenset(v) for k, v in out.items()}

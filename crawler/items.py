"""The item dataclasses: one listing entry as a spider yields it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

LISTING_KINDS = ("day", "week", "month", "trending", "search", "paper")


@dataclass
class PaperEntry:
    """One paper as seen on one listing (day, week, month, trending, search or paper page).

    Missing values are None, never "". `listing_kind`, `listing_key` and `rank` say where the
    entry was seen; `source_url` is the page (or API answer) it came from; `fetch_path` is how
    that listing was fetched (`api`, `page`, `browser`). The last five fields come from the cleaning
    pipelines: the id's version suffix, a hash of the normalized text, the key the paper is grouped
    by (its id, or `ck:` + content key), and the near-duplicate cluster it is linked to.
    """

    paper_id: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    published_at: str | None = None
    submitted_on_daily_at: str | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_keywords: list[str] | None = None
    ai_summary: str | None = None
    organization: str | None = None
    thumbnail: str | None = None
    listing_kind: str | None = None
    listing_key: str | None = None
    rank: int | None = None
    source_url: str | None = None
    crawled_at: str | None = None
    fetch_path: str | None = None
    # Set by the cleaning pipelines, not by extraction.
    arxiv_version: int | None = None
    content_key: str | None = None
    paper_key: str | None = None
    cluster_id: str | None = None
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-ready) of every field."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        """The item's field names, in declaration order."""
        return [f.name for f in fields(cls)]

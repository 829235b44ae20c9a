"""Normalize step: every entry's text, ids, URLs, dates and lists in canonical form (see crawler.normalize)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.items import PaperEntry
from crawler.normalize import (
    canonical_arxiv_id,
    canonical_timestamp,
    canonical_url,
    clean_text,
    has_unwanted_characters,
    left_as_is,
)

TEXT_FIELDS = ("title", "abstract", "ai_summary", "organization")
LIST_FIELDS = ("authors", "ai_keywords")
URL_FIELDS = ("github_repo", "project_page", "thumbnail")
DATE_FIELDS = ("published_at", "submitted_on_daily_at", "crawled_at")
# Known papers are seen again and again (days, weeks, months, searches): the same raw text is cleaned
# once. Bounded: at most ~20 MB of abstracts held.
CACHE_SIZE = 1 << 13


@lru_cache(maxsize=CACHE_SIZE)
def _text(value: str) -> tuple[str | None, bool]:
    """clean_text of a string, and whether it held characters cleaning removes."""
    return clean_text(value), has_unwanted_characters(value)


@lru_cache(maxsize=CACHE_SIZE)
def _url(value: str) -> str | None:
    return canonical_url(value)


@lru_cache(maxsize=CACHE_SIZE)
def _timestamp(value: str) -> str | None:
    return canonical_timestamp(value)


@lru_cache(maxsize=CACHE_SIZE)
def _arxiv_id(value: str) -> tuple[str, int | None] | None:
    return canonical_arxiv_id(value)


@lru_cache(maxsize=CACHE_SIZE)
def _text_list(values: tuple[str, ...]) -> tuple[tuple[str, ...] | None, bool]:
    """A list of strings cleaned as a whole (a known paper's authors come again and again)."""
    if left_as_is(values):  # most lists of names: one test instead of cleaning each name
        return values, False
    kept, unwanted = _clean_each(values)
    return (tuple(kept) if kept else None), unwanted


def _clean_list(values: Any) -> tuple[Any, bool]:
    """crawler.normalize.clean_list (through the cache), and whether an element held unwanted characters."""
    if not isinstance(values, list):
        return values, False
    if all(type(value) is str for value in values):
        cleaned, unwanted = _text_list(tuple(values))
        return (list(cleaned) if cleaned is not None else None), unwanted  # a new list for each entry
    kept, unwanted = _clean_each(values)
    return kept or None, unwanted


def _clean_each(values: Any) -> tuple[list[Any], bool]:
    kept: list[Any] = []
    unwanted = False
    for value in values:
        if isinstance(value, str):
            value, dirty = _text(value)
            unwanted = unwanted or dirty
        if value is not None:
            kept.append(value)
    return kept, unwanted


class NormalizePipeline:
    """Puts each entry in canonical form; never drops (validation comes next and judges the result).

    Values that cannot be made canonical are left as they are for validation to reject, except a
    malformed link, which becomes None (`paperset/repaired/bad_url`). Removed control characters are
    counted (`paperset/repaired/control_chars`). Settings: `PAPERSET_NORMALIZE_ENABLED`.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        if not crawler.settings.getbool("PAPERSET_NORMALIZE_ENABLED"):
            raise NotConfigured
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        # Our own dataclass is changed through its __dict__: no adapter round trip per field.
        entry: Any = item.__dict__ if type(item) is PaperEntry else ItemAdapter(item)
        unwanted = False
        for name in TEXT_FIELDS:
            value = entry.get(name)
            if isinstance(value, str):
                entry[name], dirty = _text(value)
                unwanted = unwanted or dirty
            else:
                entry[name] = value
        for name in LIST_FIELDS:
            entry[name], dirty = _clean_list(entry.get(name))
            unwanted = unwanted or dirty
        if unwanted:
            self.stats.inc_value("paperset/repaired/control_chars")
        for name in URL_FIELDS:
            raw = entry.get(name)
            entry[name] = _url(raw) if isinstance(raw, str) else canonical_url(raw)
            if raw is not None and entry[name] is None:
                self.stats.inc_value("paperset/repaired/bad_url")
        for name in DATE_FIELDS:
            raw = entry.get(name)
            entry[name] = (_timestamp(raw) if isinstance(raw, str) else canonical_timestamp(raw)) or raw
        raw_id = entry.get("paper_id")
        parsed = _arxiv_id(raw_id) if type(raw_id) is str else canonical_arxiv_id(raw_id)
        if parsed is not None:
            entry["paper_id"], version = parsed
            entry["arxiv_version"] = version
        return item

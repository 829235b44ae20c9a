"""Normalize step: every entry's text, ids, URLs, dates and lists in canonical form (see crawler.normalize)."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.normalize import (
    canonical_arxiv_id,
    canonical_timestamp,
    canonical_url,
    clean_list,
    clean_text,
    has_unwanted_characters,
)

TEXT_FIELDS = ("title", "abstract", "ai_summary", "organization")
LIST_FIELDS = ("authors", "ai_keywords")
URL_FIELDS = ("github_repo", "project_page", "thumbnail")
DATE_FIELDS = ("published_at", "submitted_on_daily_at", "crawled_at")


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
        if not crawler.settings.getbool("PAPERSET_NORMALIZE_ENABLED", True):
            raise NotConfigured
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        entry = ItemAdapter(item)
        texts = [entry.get(name) for name in TEXT_FIELDS]
        texts += [v for name in LIST_FIELDS for v in (entry.get(name) or []) if isinstance(entry.get(name), list)]
        if any(has_unwanted_characters(t) for t in texts):
            self.stats.inc_value("paperset/repaired/control_chars")
        for name in TEXT_FIELDS:
            entry[name] = clean_text(entry.get(name))
        for name in LIST_FIELDS:
            entry[name] = clean_list(entry.get(name))
        for name in URL_FIELDS:
            raw = entry.get(name)
            entry[name] = canonical_url(raw)
            if raw is not None and entry[name] is None:
                self.stats.inc_value("paperset/repaired/bad_url")
        for name in DATE_FIELDS:
            raw = entry.get(name)
            entry[name] = canonical_timestamp(raw) or raw
        parsed = canonical_arxiv_id(entry.get("paper_id"))
        if parsed is not None:
            entry["paper_id"], version = parsed
            entry["arxiv_version"] = version
        return item

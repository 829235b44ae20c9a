"""Validate step: a thin Scrapy adapter over paperset.crawler.clean.checks (required fields, types and
ranges, lengths, dates and counts); a failing entry is rejected with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from paperset.crawler.clean.checks import Limits, check_entry
from paperset.crawler.site.items import PaperEntry


class ValidatePipeline:
    """Rejects entries that break the rules in `check_entry`; the RejectsLog extension keeps each one.

    Settings: `PAPERSET_VALIDATE_ENABLED` and those of `Limits`.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        if not crawler.settings.getbool("PAPERSET_VALIDATE_ENABLED"):
            raise NotConfigured
        return cls(Limits.from_settings(crawler.settings))

    def process_item(self, item: Any) -> Any:
        check_entry(item.__dict__ if type(item) is PaperEntry else ItemAdapter(item),  # type: ignore[arg-type]
                    self.limits, datetime.now(UTC))
        return item

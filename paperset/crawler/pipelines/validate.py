"""Validate step: a thin Scrapy adapter over paperset.crawler.clean.checks (required fields, types and
ranges, lengths, dates and counts); a failing entry is rejected with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from paperset.crawler.clean.checks import Limits, check_entry, check_sighting
from paperset.crawler.clean.fields import CONTENT_FIELDS
from paperset.crawler.clean.memo import StepMemo
from paperset.crawler.pipelines.config import PipelineConfig
from paperset.crawler.site.items import PaperEntry


class ValidatePipeline:
    """Rejects entries that break the rules in `check_entry`; the RejectsLog extension keeps each one.

    The paper's fields (CONTENT_FIELDS) of an entry that passed are remembered (StepMemo): a paper seen again
    is checked only for where and when it was seen. Settings: `PAPERSET_VALIDATE_ENABLED` and those of `Limits`.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.passed = StepMemo(CONTENT_FIELDS)  # the paper's fields of entries that passed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        if not PipelineConfig.from_settings(crawler.settings).validate:
            raise NotConfigured
        return cls(Limits.from_settings(crawler.settings))

    def close_spider(self) -> None:
        self.passed.forget()  # ~20 KB a paper remembered: not held through the packaging

    def process_item(self, item: Any) -> Any:
        ours = type(item) is PaperEntry
        entry: Any = item.__dict__ if ours else ItemAdapter(item)
        now = datetime.now(UTC)
        key = self.passed.key(entry) if ours else None
        if self.passed.recall(key) is not None:
            check_sighting(entry, self.limits, now)  # its paper's fields passed: where and when it was seen
            return item
        check_entry(entry, self.limits, now)
        self.passed.keep(key, True)
        return item

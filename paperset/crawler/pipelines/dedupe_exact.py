"""Exact dedupe step: give every entry the key its paper is grouped by, and count first sightings."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from paperset.crawler.clean.keys import content_key, paper_key
from paperset.crawler.pipelines.config import PipelineConfig
from paperset.crawler.site.items import PaperEntry


class ExactDedupePipeline:
    """Sets `content_key` and `paper_key`. The same paper seen again (another day, week, search...) is
    kept as one more observation of the same paper: the packager folds observations into one row per
    key, and the history table keeps them all. Counts `paperset/dedupe/new` and `/repeat` per run.

    Settings: `PAPERSET_DEDUPE_ENABLED`.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExactDedupePipeline:
        if not PipelineConfig.from_settings(crawler.settings).dedupe:
            raise NotConfigured
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        entry: Any = item.__dict__ if type(item) is PaperEntry else ItemAdapter(item)
        entry["content_key"] = content_key(entry.get("title"), entry.get("abstract"))
        entry["paper_key"] = paper_key(entry.get("paper_id"), entry["content_key"])
        if entry["paper_key"] in self.seen:
            self.stats.inc_value("paperset/dedupe/repeat")
        else:
            self.seen.add(entry["paper_key"])
            self.stats.inc_value("paperset/dedupe/new")
        return item

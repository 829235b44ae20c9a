"""Near-duplicate step: MinHash LSH over normalized title + abstract; merges id-less near copies into the
paper they copy, links near copies that have different ids (both kept)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.dedup.config import DedupeConfig
from crawler.dedup.index import NearDupIndex, open_index
from packager.spool import read_entries

logger = logging.getLogger(__name__)


def dedupe_text(entry: ItemAdapter) -> str:
    """What near-duplicates are judged on: the normalized title and abstract."""
    return f"{entry.get('title') or ''} {entry.get('abstract') or ''}".strip()


class NearDedupePipeline:
    """For each paper key seen for the first time: query the near-dup index, then insert.

    - an entry with no paper id that near-copies a paper is merged into it: its `paper_key` becomes
      that paper's key (`paperset/dedupe/near_merged`);
    - two different paper ids that are near copies are both kept and linked: the later one gets the
      earlier one's `cluster_id` (the earliest member's key) and the `similarity`
      (`paperset/dedupe/near_linked`);
    - otherwise the entry is new (`paperset/dedupe/near_unique`).
    Later sightings of the same key carry the same outcome. The index outlives the run (see
    `PAPERSET_DEDUPE_STORE`). Settings: `PAPERSET_DEDUPE_ENABLED`, `PAPERSET_DEDUPE_STORE` and the
    `PAPERSET_DEDUPE_*` parameters of DedupeConfig.
    """

    def __init__(self, stats: StatsCollector, index: NearDupIndex, store: str) -> None:
        self.stats = stats
        self.index = index
        self.store = store
        self.outcomes: dict[str, tuple[str, str | None, float | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDedupePipeline:
        settings = crawler.settings
        if not settings.getbool("PAPERSET_DEDUPE_ENABLED", True):
            raise NotConfigured
        config = DedupeConfig.from_settings(settings)
        store = settings.get("PAPERSET_DEDUPE_STORE") or "memory"
        assert crawler.stats is not None
        pipeline = cls(crawler.stats, open_index(config, store), store)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.stats.set_value("paperset/config/dedupe", config.to_dict())
        spool = settings.get("PAPERSET_SPOOL")
        if settings.getbool("PAPERSET_RESUME") and spool and (Path(spool) / "meta.json").exists():
            pipeline.warm(read_entries(Path(spool), allow_partial=True))
        return pipeline

    def warm(self, entries: Iterable[dict[str, Any]]) -> None:
        """Resuming a killed crawl: take the outcomes of the entries already in its spool, and put into
        the index those it lost (the index is saved only when a crawl closes)."""
        keys: list[str] = []
        texts: list[str] = []
        for entry in entries:
            original = entry["paper_id"] or f"ck:{entry['content_key']}"
            if original in self.outcomes:
                continue
            self.outcomes[original] = (entry["paper_key"], entry["cluster_id"], entry["similarity"])
            if not self.index.contains(original):
                keys.append(original)
                texts.append(dedupe_text(ItemAdapter(entry)))
        for start in range(0, len(keys), 1000):
            self.index.query_insert_batch(keys[start:start + 1000], texts[start:start + 1000])
        self.stats.set_value("paperset/resume/dedupe_warmed", len(self.outcomes))

    def process_item(self, item: Any) -> Any:
        entry = ItemAdapter(item)
        key = entry["paper_key"]
        if key not in self.outcomes:
            self.outcomes[key] = self._judge(key, entry)
        new_key, cluster_id, similarity = self.outcomes[key]
        entry["paper_key"], entry["cluster_id"], entry["similarity"] = new_key, cluster_id, similarity
        return item

    def _judge(self, key: str, entry: ItemAdapter) -> tuple[str, str | None, float | None]:
        if self.index.contains(key):
            self.stats.inc_value("paperset/dedupe/near_known")
            return key, self.index.cluster_of(key), None
        [match] = self.index.query_insert_batch([key], [dedupe_text(entry)])
        if match is None:
            self.stats.inc_value("paperset/dedupe/near_unique")
            return key, None, None
        if entry.get("paper_id") is None:
            self.stats.inc_value("paperset/dedupe/near_merged")
            return match.key, None, match.similarity
        self.stats.inc_value("paperset/dedupe/near_linked")
        return key, self.index.cluster_of(match.key) or match.key, match.similarity

    def spider_closed(self, spider: Any) -> None:
        self.index.close()

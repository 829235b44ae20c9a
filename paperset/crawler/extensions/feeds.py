"""Scrapy's feed exports, an entry at a time: the spider yields a response's entries as one batch
(paperset/crawler/site/items.py EntryBatch), and a feed (`paperset crawl --out F.jsonl`, any `FEEDS`)
gets each entry of it as the item it exports, one line or row per entry as before."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.extensions.feedexport import FeedExporter

from paperset.crawler.site.items import EntryBatch


class EntryFeedExporter(FeedExporter):
    """Scrapy's FeedExporter (in its place in EXTENSIONS) that exports a batch's entries one by one."""

    def item_scraped(self, item: Any, spider: Spider) -> None:
        if type(item) is EntryBatch:
            for entry in item.entries:
                super().item_scraped(entry, spider)
        else:
            super().item_scraped(item, spider)

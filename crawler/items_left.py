"""The item pipelines' manager (ITEM_PROCESSOR) that tells the DoneTracker when each item has left them.

Scrapy sends `item_scraped` to every receiver as an asyncio task of its own, per item; the DoneTracker
listening there cost a task per entry (a search page has a hundred). Told here, at the end of the
pipeline chain, it costs a dict lookup, and the signals carry only Scrapy's own receivers.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager

from crawler.checkpoint import DoneTracker


class ItemsLeftPipelineManager(ItemPipelineManager):
    """Scrapy's item pipeline manager; when an item leaves the chain (passed, dropped or failed) the
    crawler's DoneTracker learns it (`DoneTracker.item_out`). Set as `ITEM_PROCESSOR` (crawler/settings.py);
    with another processor the DoneTracker listens to the item signals instead."""

    tells_done_tracker = True
    tracker: DoneTracker | None = None
    looked_up = False

    async def process_item_async(self, item: Any) -> Any:
        if not self.looked_up:  # the extensions exist once the crawl runs, not when this is built
            self.tracker = self.crawler.get_extension(DoneTracker) if self.crawler is not None else None
            self.looked_up = True
        tracker = self.tracker
        if tracker is None:
            return await super().process_item_async(item)
        try:
            output = await super().process_item_async(item)
        except DropItem:
            tracker.item_out(item, ok=True)
            raise
        except Exception:
            tracker.item_out(item, ok=False)
            raise
        tracker.item_out(item, ok=True)
        return output

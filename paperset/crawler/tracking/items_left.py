"""The item pipelines' manager (ITEM_PROCESSOR) that tells the DoneTracker when each item has left them.

Scrapy sends `item_scraped` to every receiver as an asyncio task of its own, per item; the DoneTracker
listening there cost a task per entry (a search page has a hundred). Told here, at the end of the
pipeline chain, it costs a dict lookup, and the signals carry only Scrapy's own receivers.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager

from paperset.crawler.tracking.done import DoneTracker

logger = logging.getLogger(__name__)


class ItemsLeftPipelineManager(ItemPipelineManager):
    """Scrapy's item pipeline manager; when an item leaves the chain (passed, dropped or failed) the
    crawler's DoneTracker learns it (`DoneTracker.item_out`). Set as `ITEM_PROCESSOR`
    (paperset.crawler.settings);
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
            _tell(tracker, item, ok=True)
            raise
        except Exception:
            _tell(tracker, item, ok=False)
            raise
        _tell(tracker, item, ok=True)
        return output


def _tell(tracker: DoneTracker, item: Any, *, ok: bool) -> None:
    """As a signal receiver's error would be, a listener's error (the spool's ledger on a full disk) is
    logged, not made the item's: the item has left the pipelines either way."""
    try:
        tracker.item_out(item, ok=ok)
    except Exception:
        logger.exception("the DoneTracker failed on an item leaving the pipelines")

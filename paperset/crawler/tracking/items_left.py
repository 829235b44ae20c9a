"""The item pipelines' manager (ITEM_PROCESSOR): it runs a response's batch of entries through the
pipelines, and tells the DoneTracker when each item has left them.

A batch (paperset/crawler/site/items.py EntryBatch) goes through each pipeline in turn, every entry of it
at that step before the next step; a pipeline with `process_entries(entries) -> entries` (the near-dup
step: one index call for the batch's new keys) takes the batch at once and drops none. An entry a step
drops leaves the batch and is reported as Scrapy reports a dropped item (the `item_dropped` signal, so
its stats and the rejects file; the drop's log line); an entry a step fails on (any other error) leaves it
as Scrapy reports an item's error (`item_error`, the log line, `paperset/items/error` per entry) and the
response's request is not done (a resumed run asks it again); the other entries go on. The stat
`item_scraped_count` counts the entries kept.

Scrapy sends `item_scraped` to every receiver as an asyncio task of its own, per item; the DoneTracker
listening there cost a task per item. Told here, at the end of the pipeline chain, it costs a dict
lookup, and the signals carry only Scrapy's own receivers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.defer import ensure_awaitable
from scrapy.utils.log import logformatter_adapter
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from paperset.crawler.site.items import EntryBatch
from paperset.crawler.tracking.done import DoneTracker

logger = logging.getLogger(__name__)
_GONE = object()  # an entry a waiting step dropped


class ItemsLeftPipelineManager(ItemPipelineManager):
    """Scrapy's item pipeline manager; when an item leaves the chain (passed, dropped or failed) the
    crawler's DoneTracker learns it (`DoneTracker.item_out`). Set as `ITEM_PROCESSOR`
    (paperset.crawler.settings);
    with another processor the DoneTracker listens to the item signals instead."""

    tells_done_tracker = True
    tracker: DoneTracker | None = None
    looked_up = False

    async def process_item_async(self, item: Any) -> Any:
        if type(item) is EntryBatch:
            return await self._tracked(item, self._batch)
        return await self._tracked(item, super().process_item_async)

    async def _batch(self, batch: EntryBatch) -> EntryBatch:
        """Each pipeline over every entry of the batch in turn; an entry dropped or failed in a step is
        reported and left out, the others go on (`batch.failed` counts the failed ones)."""
        entries = batch.entries
        needs_spider = getattr(self, "_mw_methods_requiring_spider", ())
        for method in self.methods["process_item"]:
            whole = getattr(method.__self__, "process_entries", None) if hasattr(method, "__self__") else None
            if whole is not None:  # a step that takes the batch at once; it drops none (its contract)
                entries = whole(entries)
                continue
            extra = (self._spider,) if method in needs_spider else ()
            outputs: list[Any] = []
            waiting: list[tuple[int, Any, Any]] = []
            for entry in entries:
                try:
                    out = method(entry, *extra)
                except Exception as exc:  # this entry's, reported as Scrapy reports an item's: the others go on
                    await self._left_out(batch, entry, exc)
                    continue
                if inspect.isawaitable(out) or isinstance(out, Deferred):
                    waiting.append((len(outputs), ensure_awaitable(out), entry))
                outputs.append(out)
            if waiting:  # started together: a waiting step (an index call) sees them all at once
                results = await asyncio.gather(*(w for _, w, _ in waiting), return_exceptions=True)
                for (slot, _, entry), result in zip(waiting, results, strict=True):
                    if isinstance(result, Exception):
                        await self._left_out(batch, entry, result)
                        outputs[slot] = _GONE
                    elif isinstance(result, BaseException):  # cancelled, interrupted: not an entry's fault
                        raise result
                    else:
                        outputs[slot] = result
            entries = [out for out in outputs if out is not _GONE]
        batch.entries = entries
        assert self.crawler is not None
        assert self.crawler.stats is not None
        # Scrapy counts the batch as one item scraped: the stat counts its entries instead.
        self.crawler.stats.inc_value("item_scraped_count", len(entries) - 1)
        return batch

    async def _left_out(self, batch: EntryBatch, entry: Any, exc: Exception) -> None:
        """An entry a step dropped (DropItem) or failed on (any other error: as Scrapy's scraper reports an
        item's error, its log line and `item_error`; the response's request is then not done)."""
        if isinstance(exc, DropItem):
            await self._dropped(entry, exc)
            return
        assert self.crawler is not None
        batch.failed += 1
        spider = self.crawler.spider
        logkws = self.crawler.logformatter.item_error(entry, exc, None, spider)
        if logkws is not None:
            logger.log(*logformatter_adapter(logkws), extra={"spider": spider}, exc_info=exc)
        await self.crawler.signals.send_catch_log_async(signal=signals.item_error, item=entry, response=None,
                                                        spider=spider, failure=Failure(exc))

    async def _dropped(self, entry: Any, exc: DropItem) -> None:
        """As Scrapy's scraper reports an item a pipeline dropped: its log line and `item_dropped`."""
        assert self.crawler is not None
        spider = self.crawler.spider
        logkws = self.crawler.logformatter.dropped(entry, exc, None, spider)
        if logkws is not None:
            logger.log(*logformatter_adapter(logkws), extra={"spider": spider, "item": entry})
        await self.crawler.signals.send_catch_log_async(signal=signals.item_dropped, item=entry, response=None,
                                                        spider=spider, exception=exc)

    async def _tracked(self, item: Any, process: Any) -> Any:
        if not self.looked_up:  # the extensions exist once the crawl runs, not when this is built
            self.tracker = self.crawler.get_extension(DoneTracker) if self.crawler is not None else None
            self.looked_up = True
        tracker = self.tracker
        if tracker is None:
            return await process(item)
        try:
            output = await process(item)
        except DropItem:
            _tell(tracker, item, ok=True)
            raise
        except Exception:  # a whole-batch step failed: every entry of the batch counts as an item error
            _tell(tracker, item, ok=False, errors=len(item.entries) if type(item) is EntryBatch else 1)
            raise
        failed = item.failed if type(item) is EntryBatch else 0
        _tell(tracker, item, ok=not failed, errors=failed)
        return output


def _tell(tracker: DoneTracker, item: Any, *, ok: bool, errors: int = 1) -> None:
    """As a signal receiver's error would be, a listener's error (the spool's ledger on a full disk) is
    logged, not made the item's: the item has left the pipelines either way."""
    try:
        tracker.item_out(item, ok=ok, errors=errors)
    except Exception:
        logger.exception("the DoneTracker failed on an item leaving the pipelines")

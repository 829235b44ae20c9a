"""The item processor tells the DoneTracker when each item has left the pipelines (passed, dropped or
failed), so the tracker needs no receiver on the per-item signals."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydispatch.dispatcher import getAllReceivers, liveReceivers
from scrapy import Request, Spider, signals
from scrapy.exceptions import DropItem
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from paperset.crawler.site.items import EntryBatch
from paperset.crawler.tracking.done import DoneTracker, tracked
from paperset.crawler.tracking.items_left import ItemsLeftPipelineManager


class Judge:
    """Passes "keep", drops "drop", fails on "fail"."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item["what"] == "drop":
            raise DropItem("dropped")
        if item["what"] == "fail":
            raise ValueError("failed")
        return item


class Lister(Spider):
    name = "lister"

    @tracked
    def parse(self, response: Any, **_: Any) -> Any:
        for what in response.text.split():
            yield {"what": what}


def crawl_items(processor: str, body: str, spider: type[Spider] | None = None, steps: tuple[str, ...] = ("Judge",)
                ) -> tuple[DoneTracker, list[tuple[str, bool]], list[Any]]:
    """The spider's output for one response of `body`, with the tracker and what it was told."""
    crawler = get_crawler(spider or Lister, settings_dict={
        "REMOTE_CONTROL_ENABLED": False, "ITEM_PROCESSOR": processor,
        "EXTENSIONS": {"paperset.crawler.tracking.done.DoneTracker": 50},
        "ITEM_PIPELINES": {f"{__name__}.{step}": 100 * (n + 1) for n, step in enumerate(steps)}})
    crawler._apply_settings()
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    tracker = crawler.get_extension(DoneTracker)
    done: list[tuple[str, bool]] = []
    tracker.subscribe(lambda request, children, ok: done.append((request.url, ok)))
    request = Request("http://x/a")
    items = list(crawler.spider.parse(TextResponse("http://x/a", request=request, body=body.encode())))
    return tracker, done, items


def listens(tracker: DoneTracker) -> bool:
    """Whether the tracker has a receiver on a per-item signal."""
    return any(getattr(receiver, "__self__", None) is tracker
               for signal in (signals.item_scraped, signals.item_dropped, signals.item_error)
               for receiver in liveReceivers(getAllReceivers(tracker.crawler.signals.sender, signal)))


def test_the_processor_tells_the_tracker_each_way_an_item_leaves() -> None:
    tracker, done, items = crawl_items("paperset.crawler.tracking.items_left.ItemsLeftPipelineManager",
                                       "keep drop fail")
    assert tracker.told_by_processor
    assert not listens(tracker)
    manager = ItemsLeftPipelineManager.from_crawler(tracker.crawler)

    async def run(item: Any) -> None:
        await manager.process_item_async(item)

    asyncio.run(run(items[0]))
    with pytest.raises(DropItem):
        asyncio.run(run(items[1]))
    assert done == []  # one item still in the pipelines
    with pytest.raises(ValueError, match="failed"):
        asyncio.run(run(items[2]))
    assert done == [("http://x/a", False)]  # an item failed: not ok
    assert tracker.crawler.stats.get_value("paperset/items/error") == 1
    assert tracker.owners == {} and tracker.pending == {}


def test_with_scrapys_own_processor_the_tracker_listens_to_the_signals() -> None:
    tracker, done, _ = crawl_items("scrapy.pipelines.ItemPipelineManager", "keep")
    assert not tracker.told_by_processor
    assert tracker.owners == {}  # nothing kept for a processor that will not tell
    assert list(tracker.pending.values()) == [1]
    assert listens(tracker)
    assert done == []


def test_a_listener_error_is_logged_not_made_the_items(caplog) -> None:
    tracker, _done, items = crawl_items("paperset.crawler.tracking.items_left.ItemsLeftPipelineManager", "keep")

    def full(request: Any, children: Any, ok: bool) -> None:
        raise OSError(28, "No space left on device")

    tracker.listeners.insert(0, full)
    manager = ItemsLeftPipelineManager.from_crawler(tracker.crawler)
    assert asyncio.run(manager.process_item_async(items[0])) == items[0]
    assert "the DoneTracker failed on an item leaving the pipelines" in caplog.text
    assert tracker.owners == {}


def test_an_item_no_tracked_callback_made_still_counts_when_it_fails() -> None:
    """As with Scrapy's item_error signal, every failed item is counted, also one from an untracked callback."""
    tracker, done, _ = crawl_items("paperset.crawler.tracking.items_left.ItemsLeftPipelineManager", "")
    manager = ItemsLeftPipelineManager.from_crawler(tracker.crawler)
    with pytest.raises(ValueError, match="failed"):
        asyncio.run(manager.process_item_async({"what": "fail"}))
    assert tracker.crawler.stats.get_value("paperset/items/error") == 1
    # The page's request (no items) settled ok before; the stray item's failure is nobody's request's.
    assert (done, tracker.failed) == ([("http://x/a", True)], set())


class LateJudge:
    """A waiting step: fails on "late" when awaited (as a step with an index call would)."""

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        if item["what"] == "late":
            raise RuntimeError("late")
        return item


class Sink:
    """The last step: what reached it."""

    seen: list[str] = []

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        Sink.seen.append(item["what"])
        return item


class BatchLister(Spider):
    name = "batch-lister"

    @tracked
    def parse(self, response: Any, **_: Any) -> Any:
        yield EntryBatch([{"what": what} for what in response.text.split()])


def test_a_batchs_dropped_and_failed_entries_leave_it_the_others_go_on() -> None:
    """One entry dropped, one failing in a step, one failing in a waiting step: each reported as Scrapy
    reports an item (item_dropped, item_error and its count), the others reach the last step; the page's
    request is not done (a resumed run asks it again)."""
    tracker, done, [batch] = crawl_items("paperset.crawler.tracking.items_left.ItemsLeftPipelineManager",
                                         "keep drop fail late keep", BatchLister, ("Judge", "LateJudge", "Sink"))
    crawler = tracker.crawler
    reported: list[tuple[str, str]] = []
    crawler.signals.connect(lambda item, exception, **_: reported.append(("dropped", item["what"])),
                            signal=signals.item_dropped, weak=False)
    crawler.signals.connect(lambda item, failure, **_: reported.append(("error", str(failure.value))),
                            signal=signals.item_error, weak=False)
    manager = ItemsLeftPipelineManager.from_crawler(crawler)
    Sink.seen = []
    out = asyncio.run(manager.process_item_async(batch))
    assert [e["what"] for e in out.entries] == Sink.seen == ["keep", "keep"]
    assert (out.failed, reported) == (2, [("dropped", "drop"), ("error", "failed"), ("error", "late")])
    assert crawler.stats.get_value("paperset/items/error") == 2
    assert crawler.stats.get_value("item_scraped_count") == 1  # Scrapy's own +1 for the batch makes 2
    assert done == [("http://x/a", False)]
    assert tracker.owners == {} and tracker.pending == {}


class Whole:
    """A step that takes the batch at once (as the near-dup step does), failing as an index call might."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        return item

    def process_entries(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise ConnectionError("index unreachable")


def test_a_whole_batch_step_failing_counts_every_entry_of_the_batch() -> None:
    tracker, done, [batch] = crawl_items("paperset.crawler.tracking.items_left.ItemsLeftPipelineManager",
                                         "keep keep keep", BatchLister, ("Whole", "Sink"))
    manager = ItemsLeftPipelineManager.from_crawler(tracker.crawler)
    Sink.seen = []
    with pytest.raises(ConnectionError):
        asyncio.run(manager.process_item_async(batch))
    assert Sink.seen == []
    assert tracker.crawler.stats.get_value("paperset/items/error") == 3
    assert done == [("http://x/a", False)]

"""When each response was received, put on the entries it gave: an entry's `crawled_at` (the packager's
`observed_at`, `first_seen_at`, ...) is the receipt time of its response, stamped on the request by the
recorder (paperset/crawler/fetch/archive/recorder.py) on a live crawl and read from the archive's
`WARC-Date` on a replay (paperset/crawler/fetch/archive/replay.py), so a replayed crawl gives the same rows
as the crawl that recorded it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.http import Response

from paperset.crawler.site.items import EntryBatch, PaperEntry

# request.meta key: the ISO time (UTC, microseconds) the request's response was received.
RECEIVED = "paperset_received_at"
# Response flag of an answer read from an archive (not received now: its time comes from the archive).
REPLAYED = "replayed"


def _put(received: str | None, item: Any) -> None:
    """The receipt time on an entry, or on each entry of a batch."""
    if received is None:
        return
    if type(item) is EntryBatch:
        for entry in item.entries:
            entry.crawled_at = received
    elif isinstance(item, PaperEntry):
        item.crawled_at = received


def _stamp(response: Response, result: Iterable[Any]) -> Iterator[Any]:
    received = response.meta.get(RECEIVED) if response.request is not None else None
    for item in result:
        _put(received, item)
        yield item


class ReceivedAtMiddleware:
    """A spider middleware: every entry a response gave gets that response's receipt time as `crawled_at`."""

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        yield from _stamp(response, result)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        received = response.meta.get(RECEIVED) if response.request is not None else None
        async for item in result:
            _put(received, item)
            yield item

"""The download handler: plain HTTP, or scrapy-playwright's browser for a request that asks for it
(`meta["playwright"]`), with the politeness gate in front, so that a request waits for its budget and for
any 429 wait right before it goes on the wire, and every answer's rate-limit headers are read.

The browser side (Playwright's driver, then Chromium) starts only when the first such request comes: a
crawl that needs no browser never starts it, and never imports Playwright."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawler.politeness import RateGate, TooLongWait, gate_for, give_up, header_map, request_kind

if TYPE_CHECKING:
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


def browser_handler(crawler: Crawler) -> ScrapyPlaywrightDownloadHandler:
    """scrapy-playwright's handler, with crawler.browser's launch options unless PLAYWRIGHT_LAUNCH_OPTIONS
    names some (computed here, not in settings.py, so that loading the settings finds no browser)."""
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

    from crawler.browser import launch_options

    handler = ScrapyPlaywrightDownloadHandler(crawler)
    if not crawler.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"):
        handler.config.launch_options = launch_options()
    return handler


class PoliteDownloadHandler(HTTP11DownloadHandler):
    """Waits on the crawler's RateGate, downloads, and tells the gate what the site answered.

    Counts `paperset/throttle/waits` and `paperset/throttle/waited_s`, and `paperset/requests/<kind>`
    (api, page) for every request sent. Settings: scrapy-playwright's `PLAYWRIGHT_*`, read when the
    browser starts.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler=crawler)
        self.gate: RateGate = gate_for(crawler)
        self.crawler, self.stats = crawler, crawler.stats
        self.browser: ScrapyPlaywrightDownloadHandler | None = None
        self._browser_started = asyncio.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteDownloadHandler:
        return cls(crawler)

    async def _browser(self) -> ScrapyPlaywrightDownloadHandler:
        async with self._browser_started:
            if self.browser is None:
                handler = browser_handler(self.crawler)
                # The engine_started signal that launches Playwright has passed: launch it now.
                await handler._maybe_launch_in_thread()
                self.browser = handler
        return self.browser

    async def download_request(self, request: Request) -> Response:  # type: ignore[override]
        host, kind = urlsplit(request.url).netloc, request_kind(request.url)
        try:
            waited = await self.gate.wait(host, kind)
        except TooLongWait as exc:
            give_up(self.crawler, request, str(exc))
            raise IgnoreRequest(str(exc)) from None
        assert self.stats is not None
        if waited > 0:
            self.stats.inc_value("paperset/throttle/waits")
            self.stats.inc_value("paperset/throttle/waited_s", round(waited, 3))
        self.stats.inc_value(f"paperset/requests/{kind}")
        if request.meta.get("playwright"):
            response = await (await self._browser()).download_request(request)
        else:
            response = await super().download_request(request)
        self.gate.observe(host, response.status, header_map(response))
        return response

    async def close(self) -> None:
        await super().close()
        if self.browser is not None:
            await self.browser.close()

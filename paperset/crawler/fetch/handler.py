"""The download handler: plain HTTP, or scrapy-playwright's browser for a request that asks for it
(`meta["playwright"]`), with the politeness gate in front, so that a request waits for its budget and for
any 429 wait right before it goes on the wire, and every answer's rate-limit headers are read. It also
gives a dead site up early, and keeps the browser on the site asked for.

The browser side (Playwright's driver, then Chromium) starts only when the first such request comes: a
crawl that needs no browser never starts it, and never imports Playwright."""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import error as net
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from paperset.crawler.fetch.hosts import on_site
from paperset.crawler.fetch.politeness.extension import gate_for
from paperset.crawler.fetch.politeness.gate import RateGate, TooLongWait
from paperset.crawler.fetch.politeness.headers import header_map, request_kind
from paperset.crawler.fetch.politeness.middleware import give_up
from paperset.crawler.settings.fields import FromSettings, setting
from paperset.crawler.tracking.coverage import UNREACHABLE

if TYPE_CHECKING:
    from playwright.async_api import Request as PlaywrightRequest
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

logger = logging.getLogger(__name__)
# request.meta key: this attempt's response headers came (set by the headers_received signal).
_HEADERS_CAME = "paperset_headers_came"

# Failures that say nothing reached the site (or nothing came back): a run of them, with no response headers,
# means it is down. The same failures after the headers came (a body cut, reset or too slow) do not count.
CONNECTION_ERRORS = (DownloadConnectionRefusedError, CannotResolveHostError, DownloadTimeoutError,
                     DownloadFailedError, ResponseDataLossError, net.ConnectError, net.ConnectionRefusedError,
                     net.DNSLookupError, net.TCPTimedOutError, net.TimeoutError, net.ConnectionLost,
                     ResponseNeverReceived, ResponseFailed, TimeoutError, ConnectionError)


@dataclass(frozen=True)
class HandlerConfig(FromSettings):
    """When the site is given up (`PAPERSET_UNREACHABLE_AFTER` failed requests in a row) and how long a host
    that never answered is waited for (`PAPERSET_FIRST_CONTACT_TIMEOUT_S`)."""

    unreachable_after: int = setting("PAPERSET_UNREACHABLE_AFTER")
    first_contact_timeout_s: float = setting("PAPERSET_FIRST_CONTACT_TIMEOUT_S")


def browser_handler(crawler: Crawler) -> ScrapyPlaywrightDownloadHandler:
    """scrapy-playwright's handler, with paperset.crawler.fetch.browser's launch options unless
    PLAYWRIGHT_LAUNCH_OPTIONS names some (computed here, not in the settings module, so that loading the
    settings finds no browser)."""
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

    from paperset.crawler.fetch.browser import launch_options

    handler = ScrapyPlaywrightDownloadHandler(crawler)
    if not crawler.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"):
        handler.config.launch_options = launch_options()
    return handler


class PoliteDownloadHandler(HTTP11DownloadHandler):
    """Waits on the crawler's RateGate, downloads, and tells the gate what the site answered.

    Counts `paperset/throttle/waits` and `paperset/throttle/waited_s`, and `paperset/requests/<kind>`
    (api, page) for every request sent. A request counts as a connection failure only when no response
    headers came (refused, unresolved, reset or timed out before an answer); a body cut, reset or
    outlasting `DOWNLOAD_TIMEOUT` after its headers is that request's failure (`paperset/body/failed`),
    and a body timeout is not asked again. After connection failures of `PAPERSET_UNREACHABLE_AFTER`
    different requests in a row (a retry is the same request: one stalling listing is not a dead site),
    with no answer between them, the crawl stops with finish reason `site_unreachable`
    (`paperset/connection/failures` counts them), unless the host has answered in this run and only one
    kind of request (api, page) failed while the crawl uses both: the other kind is asked then (auto's
    fallback), and the count goes on from there. Until a host first answers, a request to it waits at
    most `PAPERSET_FIRST_CONTACT_TIMEOUT_S` (a host that swallows connections fails in seconds, not
    after `DOWNLOAD_TIMEOUT` times every retry). Browser pages may fetch only from the site's hosts
    (`paperset/browser/offsite_blocked` counts what was blocked). Settings: scrapy-playwright's
    `PLAYWRIGHT_*`, read when the browser starts.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler=crawler)
        self.gate: RateGate = gate_for(crawler)
        self.crawler, self.stats = crawler, crawler.stats
        config = HandlerConfig.from_settings(crawler.settings)
        self.unreachable_after = config.unreachable_after
        # The requests (URLs: a retry is the same one) and kinds of request that failed since the last answer.
        self.failed_urls: set[str] = set()
        self.failed_kinds: set[str] = set()
        self.stopping = False
        crawler.signals.connect(self._headers_came, signal=signals.headers_received)
        self.first_contact_timeout = config.first_contact_timeout_s
        self.answered: set[str] = set()
        self.browser: ScrapyPlaywrightDownloadHandler | None = None
        self._browser_started = asyncio.Lock()
        self._abort_also: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteDownloadHandler:
        return cls(crawler)

    async def _browser(self) -> ScrapyPlaywrightDownloadHandler:
        async with self._browser_started:
            if self.browser is None:
                handler = browser_handler(self.crawler)
                # Every browser request passes our host check first, then PLAYWRIGHT_ABORT_REQUEST's.
                self._abort_also = handler.abort_request
                handler.abort_request = self._abort
                # The engine_started signal that launches Playwright has passed: launch it now.
                await handler._maybe_launch_in_thread()
                self.browser = handler
        return self.browser

    async def _abort(self, request: PlaywrightRequest) -> bool:
        """Block every browser request to another host (a script's fetch, an added script, a navigation)."""
        allowed = getattr(self.crawler.spider, "allowed_netlocs", None)
        if allowed is not None and not on_site(request.url, allowed):
            assert self.stats is not None
            self.stats.inc_value("paperset/browser/offsite_blocked")
            logger.warning("browser: blocked a request to another host: %s", urlsplit(request.url).netloc)
            return True
        if self._abort_also is None:
            return False
        verdict: Any = self._abort_also(request)
        return bool(await verdict if inspect.isawaitable(verdict) else verdict)

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
        browser = bool(request.meta.get("playwright"))
        if host not in self.answered and self.first_contact_timeout > 0 and not browser:
            timeout = request.meta.get("download_timeout") or self.first_contact_timeout
            request.meta["download_timeout"] = min(float(timeout), self.first_contact_timeout)
        request.meta.pop(_HEADERS_CAME, None)  # a retry is a copy of the request
        try:
            if browser:
                response = await (await self._browser()).download_request(request)
            else:
                response = await super().download_request(request)
        except CONNECTION_ERRORS as exc:
            if not request.meta.get(_HEADERS_CAME):
                self.connection_failed(request, host, kind)
                raise
            self.site_answered(host)
            self.stats.inc_value("paperset/body/failed")
            if isinstance(exc, DownloadTimeoutError | TimeoutError | net.TimeoutError):
                request.meta["dont_retry"] = True  # asked again, it would trickle as slowly
            raise
        self.site_answered(host)
        await self.gate.learn(host, response.status, header_map(response))
        return response

    def _headers_came(self, request: Request, **kwargs: Any) -> None:
        request.meta[_HEADERS_CAME] = True

    def site_answered(self, host: str) -> None:
        self.failed_urls.clear()
        self.failed_kinds.clear()
        self.answered.add(host)

    def _kinds_used(self) -> set[str]:
        fetch = getattr(self.crawler.spider, "fetch", "auto")
        return {"api", "page"} if fetch == "auto" else {"api" if fetch == "api" else "page"}

    def connection_failed(self, request: Request, host: str, kind: str) -> None:
        assert self.stats is not None
        self.stats.inc_value("paperset/connection/failures")
        self.failed_urls.add(request.url)
        self.failed_kinds.add(kind)
        if host in self.answered and not self._kinds_used() <= self.failed_kinds:
            return  # one route failing on a site that answers: its fallback is asked next
        failed = len(self.failed_urls)
        if self.unreachable_after and failed >= self.unreachable_after and not self.stopping:
            self.stopping = True
            logger.error("%d connections in a row to %s failed (PAPERSET_UNREACHABLE_AFTER): the site is "
                         "unreachable; stopping the crawl", failed, urlsplit(request.url).hostname)
            self.stats.set_value("paperset/connection/failed_in_a_row", failed)
            assert self.crawler.engine is not None
            if self.crawler.engine.spider is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=UNREACHABLE))

    async def close(self) -> None:
        await super().close()
        if self.browser is not None:
            await self.browser.close()

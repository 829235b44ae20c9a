"""The download handler: scrapy-playwright's (plain HTTP unless a request asks for the browser), with the
politeness gate in front, so that a request waits for its budget and for any 429 wait right before it
goes on the wire, and every answer's rate-limit headers are read. It also gives a dead site up early,
and keeps the browser on the site asked for."""

from __future__ import annotations

import inspect
import logging
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Request as PlaywrightRequest
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
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from twisted.internet import error as net
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.hosts import on_site
from crawler.politeness import RateGate, TooLongWait, gate_for, give_up, header_map, request_kind

logger = logging.getLogger(__name__)

# Failures that say nothing reached the site (or nothing came back): a run of them means it is down.
CONNECTION_ERRORS = (DownloadConnectionRefusedError, CannotResolveHostError, DownloadTimeoutError,
                     DownloadFailedError, ResponseDataLossError, net.ConnectError, net.ConnectionRefusedError, net.DNSLookupError, net.TCPTimedOutError,
                     net.TimeoutError, net.ConnectionLost, ResponseNeverReceived, ResponseFailed, TimeoutError,
                     ConnectionError)
UNREACHABLE = "site_unreachable"


class PoliteDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """Waits on the crawler's RateGate, downloads, and tells the gate what the site answered.

    Counts `paperset/throttle/waits` and `paperset/throttle/waited_s`, and `paperset/requests/<kind>`
    (api, page) for every request sent. After `PAPERSET_UNREACHABLE_AFTER` connection failures in a
    row with no answer between them, the crawl stops with finish reason `site_unreachable`
    (`paperset/connection/failures` counts them); until a host first answers, a request to it waits at
    most `PAPERSET_FIRST_CONTACT_TIMEOUT_S` (a host that swallows connections fails in seconds, not
    after `DOWNLOAD_TIMEOUT` times every retry). Browser pages may fetch only from the site's hosts
    (`paperset/browser/offsite_blocked` counts what was blocked).
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.gate: RateGate = gate_for(crawler)
        self.crawler, self.stats = crawler, crawler.stats
        self.unreachable_after = crawler.settings.getint("PAPERSET_UNREACHABLE_AFTER", 4)
        self.failures_in_a_row = 0
        self.first_contact_timeout = crawler.settings.getfloat("PAPERSET_FIRST_CONTACT_TIMEOUT_S", 5.0)
        self.answered: set[str] = set()
        self._abort_also = self.abort_request
        self.abort_request = self._abort

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
        if host not in self.answered and self.first_contact_timeout > 0 and not request.meta.get("playwright"):
            timeout = request.meta.get("download_timeout") or self.first_contact_timeout
            request.meta["download_timeout"] = min(float(timeout), self.first_contact_timeout)
        try:
            response = await super().download_request(request)
        except CONNECTION_ERRORS:
            self.connection_failed(request)
            raise
        self.failures_in_a_row = 0
        self.answered.add(host)
        self.gate.observe(host, response.status, header_map(response))
        return response

    def connection_failed(self, request: Request) -> None:
        assert self.stats is not None
        self.stats.inc_value("paperset/connection/failures")
        self.failures_in_a_row += 1
        if self.unreachable_after and self.failures_in_a_row == self.unreachable_after:
            logger.error("%d connections in a row to %s failed (PAPERSET_UNREACHABLE_AFTER): the site is "
                         "unreachable; stopping the crawl", self.failures_in_a_row, urlsplit(request.url).hostname)
            self.stats.set_value("paperset/connection/failed_in_a_row", self.failures_in_a_row)
            assert self.crawler.engine is not None
            if self.crawler.engine.spider is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=UNREACHABLE))

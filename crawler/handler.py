"""The download handler: scrapy-playwright's (plain HTTP unless a request asks for the browser), with the
politeness gate in front, so that a request waits for its budget and for any 429 wait right before it
goes on the wire, and every answer's rate-limit headers are read."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.politeness import RateGate, TooLongWait, gate_for, give_up, header_map, request_kind


class PoliteDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """Waits on the crawler's RateGate, downloads, and tells the gate what the site answered.

    Counts `paperset/throttle/waits` and `paperset/throttle/waited_s`, and `paperset/requests/<kind>`
    (api, page) for every request sent.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.gate: RateGate = gate_for(crawler)
        self.crawler, self.stats = crawler, crawler.stats

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
        response = await super().download_request(request)
        self.gate.observe(host, response.status, header_map(response))
        return response

"""The downloader middlewares of politeness: 429/503 re-scheduling and robots.txt for every waiter."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

from paperset.crawler.fetch.politeness.extension import gate_for
from paperset.crawler.fetch.politeness.headers import THROTTLED
from paperset.crawler.tracking.done import UNFINISHED

logger = logging.getLogger(__name__)


def give_up(crawler: Crawler, request: Request, why: str) -> None:
    """The site wants a longer wait than PAPERSET_MAX_WAIT_S: stop the crawl (`rate_limited`); the
    request is left unfinished, so that the next run asks it again."""
    request.meta[UNFINISHED] = True
    assert crawler.stats is not None
    crawler.stats.inc_value("paperset/throttle/gave_up")
    logger.error("%s (more than PAPERSET_MAX_WAIT_S): stopping the crawl; the next run resumes", why)
    assert crawler.engine is not None
    if crawler.engine.spider is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason="rate_limited"))


class RetryAfterMiddleware:
    """Re-schedules requests answered 429 or 503 (the gate already holds the host closed for the time
    the answer asked); gives the crawl up when the site asks for a wait longer than
    `PAPERSET_MAX_WAIT_S`. Counts `paperset/throttle/<status>` and `paperset/throttle/gave_up`.

    Settings: `PAPERSET_THROTTLE_RETRIES`, `PAPERSET_MAX_WAIT_S` (and the gate's, see PolitenessConfig).
    Placed after Scrapy's RetryMiddleware (550) so it sees these answers first; 429 and 503 are not in
    `RETRY_HTTP_CODES`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.gate = gate_for(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in THROTTLED or request.meta.get("dont_retry"):
            return response
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"paperset/throttle/{response.status}")
        host = urlsplit(request.url).netloc
        closed_for = max(self.gate.closed_until(host) - self.gate.clock(), 0.0)
        if closed_for > self.gate.config.max_wait_s:
            give_up(self.crawler, request, f"{host} asks to wait {closed_for:.0f} s")
            return response
        logger.info("%s answered %d: waiting %.1f s before %s", host, response.status, closed_for, request.url)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}",
                                  max_retry_times=self.gate.config.retries,
                                  stats_base_key="paperset/throttle/retry")
        return retry or response


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waited for the robots.txt download
    judged by it: Scrapy's hands the parser to the first waiter only (the others get None and go out
    unchecked). Replaces `scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware`."""

    async def robot_parser(self, request: Request) -> Any:
        parser = await super().robot_parser(request)
        if parser is None:
            # The shared Deferred's result was taken by an earlier waiter; the parser is stored by now
            # (None only when robots.txt could not be downloaded at all).
            parser = self._parsers.get(urlparse_cached(request).netloc)
        return parser

"""The Hugging Face Papers spider: requests the asked listings along the cheapest path that has the
data (API, page JSON, browser) and hands each response to page code."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlparse

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.page import PageMethod
from twisted.python.failure import Failure

from crawler.browser import LOAD_ALL_SCRIPT
from crawler.checkpoint import resume_requests, resumed_outcomes, tracked
from crawler.coverage import COMPLETE, EMPTY, INCOMPLETE, SETTLED, STAT, STATUSES, Coverage, failure_reason
from crawler.hosts import allowed_netlocs, check_base_url, on_site, split_credentials
from crawler.items import PaperEntry
from crawler.listings import Listing, plan_listings
from crawler.pages.hf import (
    ApiAnswerError,
    ExtractionError,
    parse_api_listing,
    parse_api_paper,
    parse_listing,
    parse_paper_page,
)

logger = logging.getLogger(__name__)

FETCH_MODES = ("auto", "api", "page", "browser")
_REDIRECTS = [301, 302, 303, 307, 308]
# A listing page redirected more often than this (to itself, or around a cycle) is a redirect loop.
MAX_PAGE_REDIRECTS = 3
_HOPS = "paperset_redirects"
_TRUE = {"1", "true", "yes", "on"}


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


class HfPapersSpider(scrapy.Spider):
    """Crawls daily, weekly, monthly, search and trending listings of Hugging Face Papers.

    Spider arguments (`-a name=value`, comma-separated for several): `day`, `week`, `month`,
    `range` (`START:END`), `search`, `trending` (true/false), `details` (also fetch every paper's
    page), `fetch` (auto, api, page, browser), `base_url`, `worker` (true: make no requests of its
    own, take them from the shared queue of a distributed run). Settings read: `PAPERSET_BASE_URL`,
    `PAPERSET_FETCH`, `PAPERSET_API_PAGE_SIZE`, `PAPERSET_BROWSER_MAX_ROUNDS`, `PAPERSET_BROWSER_WAIT_MS`,
    `PAPERSET_ALLOWED_HOSTS`, `URLLENGTH_LIMIT`.

    Every listing is settled (crawler/coverage.py): complete, empty for a reason, or incomplete with
    why; the report is the stat `paperset/coverage`, with counts `paperset/coverage/<status>`.

    `auto` asks the JSON API first, reads the page's hydration JSON when the API fails (an error
    status after retries, invalid JSON, an unknown shape), and renders the page in Chromium only when
    neither has the data. Stats `paperset/fetch/<path>` count the listings each path served.
    """

    name = "hf_papers"

    def __init__(
        self,
        day: str | list[str] | None = None,
        week: str | list[str] | None = None,
        month: str | list[str] | None = None,
        range: str | list[str] | None = None,
        search: str | list[str] | None = None,
        trending: Any = False,
        details: Any = False,
        fetch: str | None = None,
        base_url: str | None = None,
        worker: Any = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        searches = search.split(",") if isinstance(search, str) else search
        self.listings: list[Listing] = plan_listings(days=day, weeks=week, months=month, ranges=range,
                                                     searches=searches, trending=_flag(trending))
        if not self.listings:
            raise ValueError("nothing to crawl: give at least one of day, week, month, range, search, trending")
        if fetch is not None and fetch not in FETCH_MODES:
            raise ValueError(f"fetch must be one of {', '.join(FETCH_MODES)}, not {fetch!r}")
        self.fetch_arg, self.base_url_arg, self.details = fetch, base_url, _flag(details)
        self.detailed: set[str] = set()
        self.coverage = Coverage(self.listings)
        # In a distributed run, where each outcome also goes (crawler.distributed.coverage_sink).
        self.coverage_sink: Any = None
        # A worker of a distributed run takes its requests from the shared queue, seeded elsewhere.
        self.worker = _flag(worker)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> HfPapersSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # Credentials in the base URL go to HttpAuthMiddleware, never into a request URL (nor a log line).
        base_url, user, password = split_credentials(
            check_base_url(str(spider.base_url_arg or settings.get("PAPERSET_BASE_URL"))))
        spider.base_url = base_url.rstrip("/")
        if user is not None:
            spider.http_user, spider.http_pass = user, password or ""
            spider.http_auth_domain = urlparse(spider.base_url).hostname
        spider.allowed_netlocs = allowed_netlocs(spider.base_url, settings.getlist("PAPERSET_ALLOWED_HOSTS"))
        spider.url_limit = settings.getint("URLLENGTH_LIMIT")
        spider.fetch = spider.fetch_arg or settings.get("PAPERSET_FETCH")
        if spider.fetch not in FETCH_MODES:
            raise ValueError(f"PAPERSET_FETCH must be one of {', '.join(FETCH_MODES)}, not {spider.fetch!r}")
        spider.api_page_size = settings.getint("PAPERSET_API_PAGE_SIZE")
        spider.browser_args = {"maxRounds": settings.getint("PAPERSET_BROWSER_MAX_ROUNDS"),
                               "waitMs": settings.getint("PAPERSET_BROWSER_WAIT_MS"),
                               "quietMs": settings.getint("PAPERSET_BROWSER_QUIET_MS")}
        return spider

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def settle(self, request: scrapy.Request | None, listing: Listing, status: str, reason: str | None = None) -> None:
        """Record a listing's outcome (and on the request that settled it, for the ledger)."""
        if request is not None:
            request.meta[SETTLED] = [listing.kind, listing.key, status, reason]
        if status == INCOMPLETE:
            logger.error("%s %s is incomplete: %s", listing.kind, listing.key[:80], reason)
        self.coverage.settle(listing, status, reason)
        if self.coverage_sink is not None:
            self.coverage_sink(listing, status, reason)

    def seed_requests(self) -> list[scrapy.Request]:
        """The first request of every listing; a listing whose URL is longer than URLLENGTH_LIMIT is
        settled incomplete (`url_too_long`) instead of being dropped unseen by the middleware."""
        seeds = []
        for listing in self.listings:
            request = self.first_request(listing)
            if self.url_limit and len(request.url) > self.url_limit:
                self._inc("paperset/coverage/url_too_long")
                self.settle(None, listing, INCOMPLETE, f"url_too_long ({len(request.url)} > URLLENGTH_LIMIT "
                                                       f"{self.url_limit})")
                continue
            seeds.append(request)
        return seeds

    def closed(self, reason: str) -> None:
        """Put the coverage report in the stats (before the spool writes them into its meta.json). A
        worker of a distributed run sees only the requests it took: it reports none."""
        if self.worker:
            return

        def why(listing: Listing) -> str:
            # Finished with the listing unsettled: its next request was dropped without an errback (a
            # spider middleware: URL length, depth; the dupefilter).
            return "request_dropped" if reason == "finished" else f"crawl stopped ({reason})"

        report = self.coverage.report(why)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(STAT, report)
        for status in STATUSES:
            self.crawler.stats.set_value(f"{STAT}/{status}", sum(r["status"] == status for r in report))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.worker:
            return
        settled = resumed_outcomes(self.crawler.settings)
        if settled is None:
            for request in self.seed_requests():
                yield request
            return
        for kind, key, status, reason in settled:
            self.coverage.settle(Listing(kind, key), status, reason)
        for request in resume_requests(self.crawler, self.seed_requests()):
            if request.callback == self.parse_detail:
                self.detailed.add(request.cb_kwargs["paper_id"])
            yield request

    # --- requests, one kind per path ---------------------------------------------------------

    def first_request(self, listing: Listing) -> scrapy.Request:
        if self.fetch in ("auto", "api") and listing.api_path():
            return self.api_request(listing, 0)
        if self.fetch == "browser":
            return self.browser_request(listing)
        return self.page_request(listing, self.base_url + listing.page_path())

    def api_request(self, listing: Listing, page: int) -> scrapy.Request:
        url = f"{self.base_url}{listing.api_page_path(self.api_page_size, page)}"
        return scrapy.Request(url, callback=self.parse_api, errback=self.api_failed,
                              cb_kwargs={"listing": listing, "page": page},
                              meta={"handle_httpstatus_all": True, "dont_redirect": True})

    def page_request(self, listing: Listing, url: str, hops: int = 0) -> scrapy.Request:
        # Redirects are handled here, not followed blindly: the site answers a day with no papers by
        # redirecting to the latest day, whose papers must not be filed under the asked day.
        return scrapy.Request(url, callback=self.parse_page, errback=self.request_failed,
                              cb_kwargs={"listing": listing}, dont_filter=True,
                              meta={"dont_redirect": True, "handle_httpstatus_list": _REDIRECTS, _HOPS: hops})

    def browser_request(self, listing: Listing) -> scrapy.Request:
        load_all = PageMethod("evaluate", LOAD_ALL_SCRIPT, self.browser_args)
        return scrapy.Request(self.base_url + listing.page_path(), callback=self.parse_browser,
                              errback=self.browser_failed, cb_kwargs={"listing": listing}, dont_filter=True,
                              meta={"playwright": True, "playwright_page_methods": [load_all]})

    # --- callbacks -------------------------------------------------------------------------------

    @tracked
    def parse_api(self, response: Response, listing: Listing, page: int) -> Iterator[Any]:
        try:
            if response.status != 200:
                yield from self.api_fallback(response.request, listing, page, f"http_{response.status}",
                                             response.url)
                return
            entries = parse_api_listing(response.text, url=response.url, kind=listing.kind, key=listing.key,
                                        offset=page * self.api_page_size)
        except ApiAnswerError as exc:
            yield from self.api_fallback(response.request, listing, page, exc.reason, response.url)
            return
        if page == 0:
            if not entries and listing.kind == "day":
                self._inc("paperset/listings/no_papers")
                self.settle(response.request, listing, EMPTY, "no_papers")
                return
            self._inc("paperset/fetch/api")
        yield from self.emit(entries, "api")
        if len(entries) == self.api_page_size:
            yield self.api_request(listing, page + 1)
        else:
            self.settle(response.request, listing, COMPLETE)

    @tracked
    def api_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        yield from self.api_fallback(request, request.cb_kwargs["listing"], request.cb_kwargs["page"],
                                     failure_reason(failure), request.url)

    def api_fallback(self, request: scrapy.Request, listing: Listing, page: int, reason: str,
                     url: str) -> Iterator[Any]:
        self._inc(f"paperset/api/{reason}")
        if page > 0:
            # Earlier API pages already gave their entries; the page path would repeat them.
            logger.error("API page %d failed (%s): %s; the listing stays incomplete", page, reason, url)
            self._inc("paperset/listings/incomplete")
            self.settle(request, listing, INCOMPLETE, f"api page {page}: {reason}")
        elif self.fetch == "auto" and reason not in ("robots_txt", "offsite"):
            logger.info("API failed (%s) for %s %s; reading the page", reason, listing.kind, listing.key)
            yield self.page_request(listing, self.base_url + listing.page_path())
        else:
            logger.warning("API failed (%s) for %s %s", reason, listing.kind, listing.key)
            self.settle(request, listing, INCOMPLETE, f"api: {reason}")

    @tracked
    def parse_page(self, response: Response, listing: Listing) -> Iterator[Any]:
        if 300 <= response.status < 400:
            location = urljoin(response.url, response.headers.get("Location", b"").decode("latin-1"))
            if not on_site(location, self.allowed_netlocs):
                self._inc("paperset/redirects/offsite")
                self.settle(response.request, listing, INCOMPLETE, "offsite_redirect")
                return
            if urlparse(location).path.rstrip("/").endswith(listing.key):
                hops = response.request.meta.get(_HOPS, 0) + 1
                if location == response.url or hops > MAX_PAGE_REDIRECTS:
                    self._inc("paperset/redirects/loop")
                    self.settle(response.request, listing, INCOMPLETE, "redirect_loop")
                    return
                yield self.page_request(listing, location, hops)
                return
            self._inc("paperset/listings/no_papers")
            self.settle(response.request, listing, EMPTY, "no_papers")
            logger.info("%s %s has no papers: the site redirects to %s", listing.kind, listing.key, location)
            return
        page = parse_listing(response.text, url=response.url, kind=listing.kind, key=listing.key)
        for reason in page.problems:
            self._inc(f"paperset/pages/{reason}")
        if listing.kind == "day" and page.page_key and page.page_key != listing.key:
            self._inc("paperset/listings/no_papers")
            self.settle(response.request, listing, EMPTY, "no_papers")
            logger.info("day %s has no papers: the page shows %s", listing.key, page.page_key)
            return
        if not page.entries:
            if self.fetch == "auto":
                logger.info("no data in %s; rendering it in the browser", response.url)
                yield self.browser_request(listing)
            else:
                logger.warning("%s: no entries (%s)", response.url, ", ".join(page.problems))
                self.settle(response.request, listing, INCOMPLETE, "no_entries")
            return
        if page.problems:
            logger.warning("%s: %s (read %d entries from the cards)", response.url, ", ".join(page.problems),
                           len(page.entries))
        self._inc(f"paperset/listings/{page.source}")
        self._inc("paperset/fetch/page")
        self.settle(response.request, listing, COMPLETE)
        yield from self.emit(page.entries, "page")

    @tracked
    def parse_browser(self, response: Response, listing: Listing) -> Iterator[Any]:
        page = parse_listing(response.text, url=response.url, kind=listing.kind, key=listing.key)
        if not page.entries:
            self._inc("paperset/browser/no_entries")
            logger.warning("%s: no entries even in the browser", response.url)
            self.settle(response.request, listing, INCOMPLETE, "no_entries")
            return
        self._inc("paperset/fetch/browser")
        self.settle(response.request, listing, COMPLETE)
        yield from self.emit(page.entries, "browser")

    @tracked
    def browser_failed(self, failure: Failure) -> Iterator[Any]:
        self._inc(f"paperset/browser/{failure.type.__name__.lower()}")
        request = failure.request  # type: ignore[attr-defined]
        logger.error("browser failed on %s: %s", request.url, failure.value)
        self.settle(request, request.cb_kwargs["listing"], INCOMPLETE, f"browser: {failure_reason(failure)}")
        yield from ()

    @tracked
    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A page or paper request that failed for good (after retries, or refused by robots.txt)."""
        self._inc(f"paperset/failed/{failure.type.__name__.lower()}")
        request = failure.request  # type: ignore[attr-defined]
        logger.error("%s failed: %s", request.url, failure.value)
        if "listing" in request.cb_kwargs:
            self.settle(request, request.cb_kwargs["listing"], INCOMPLETE, failure_reason(failure))
        yield from ()

    def emit(self, entries: list[PaperEntry], path: str) -> Iterator[Any]:
        crawled_at = datetime.now(UTC).isoformat()
        for entry in entries:
            entry.crawled_at = crawled_at
            entry.fetch_path = path
            yield entry
            if self.details and entry.paper_id and entry.paper_id not in self.detailed:
                self.detailed.add(entry.paper_id)
                yield self.detail_request(entry.paper_id)

    # --- paper pages (--details) -----------------------------------------------------------------

    def detail_request(self, paper_id: str, *, page: bool = False) -> scrapy.Request:
        if self.fetch in ("auto", "api") and not page:
            return scrapy.Request(f"{self.base_url}/api/papers/{paper_id}", callback=self.parse_detail,
                                  errback=self.request_failed, cb_kwargs={"paper_id": paper_id, "api": True},
                                  meta={"handle_httpstatus_all": True})
        return scrapy.Request(f"{self.base_url}/papers/{paper_id}", callback=self.parse_detail,
                              errback=self.request_failed, cb_kwargs={"paper_id": paper_id, "api": False})

    @tracked
    def parse_detail(self, response: Response, paper_id: str, api: bool) -> Iterator[Any]:
        try:
            if response.status != 200:
                yield from self.detail_failed(f"http_{response.status}", paper_id, api)
                return
            if api:
                entry = parse_api_paper(response.text, url=response.url)
            else:
                entry = parse_paper_page(response.text, url=response.url)
        except ExtractionError as exc:  # an API answer's or a page's
            yield from self.detail_failed(exc.reason, paper_id, api)
            return
        self._inc(f"paperset/details/{'api' if api else 'page'}")
        entry.crawled_at = datetime.now(UTC).isoformat()
        entry.fetch_path = "api" if api else "page"
        yield entry

    def detail_failed(self, reason: str, paper_id: str, api: bool) -> Iterator[scrapy.Request]:
        """Count why a paper's details could not be read; from the API, ask the paper's page instead."""
        self._inc(f"paperset/details/{reason}")
        if api and self.fetch == "auto":
            yield self.detail_request(paper_id, page=True)

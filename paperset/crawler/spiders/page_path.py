"""The spider's page and browser paths: a listing's HTML page (hydration JSON, else cards), its
redirects, and rendering it in Chromium when the page has no data."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response
from scrapy_playwright.page import PageMethod
from twisted.python.failure import Failure

from paperset.crawler.fetch.browser import LOAD_ALL_SCRIPT
from paperset.crawler.fetch.hosts import on_site
from paperset.crawler.site.listings import Listing
from paperset.crawler.site.pages import NOT_ON_CARDS, ListingPage, parse_listing
from paperset.crawler.tracking.coverage import COMPLETE, EMPTY, FOLLOW, INCOMPLETE, Answer, failure_reason, judge
from paperset.crawler.tracking.done import tracked

logger = logging.getLogger(__name__)

_REDIRECTS = [301, 302, 303, 307, 308]
_HOPS = "paperset_redirects"
# The stat a listing settled by its page counts (kept from before the rule was shared: dashboards read them).
_STAT = {"redirect_loop": "paperset/redirects/loop", "offsite_redirect": "paperset/redirects/offsite",
         "unexpected_redirect": "paperset/redirects/unexpected"}


class PagePath:
    """Requests and callbacks of the page and browser paths, mixed into HfPapersSpider (which gives
    `base_url`, `fetch`, `browser_args`, `allowed_netlocs`, `settle`, `emit`, `_inc`, `request_failed`)."""

    base_url: str
    fetch: str
    browser_args: dict[str, int]
    allowed_netlocs: Any

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

    @tracked
    def parse_page(self, response: Response, listing: Listing) -> Iterator[Any]:
        hops = response.request.meta.get(_HOPS, 0)
        if 300 <= response.status < 400:
            location = urljoin(response.url, response.headers.get("Location", b"").decode("latin-1"))
            answer = Answer(response.url, location=location, offsite=not on_site(location, self.allowed_netlocs),
                            hops=hops)
            status, reason = judge(listing, answer)
            if status == FOLLOW:
                yield self.page_request(listing, location, hops + 1)
            else:
                self.settle_page(response, listing, status, reason, location)
            return
        unmapped: Counter[str] = Counter()
        page = parse_listing(response.text, url=response.url, kind=listing.kind, key=listing.key, unmapped=unmapped)
        for problem in page.problems:
            self._inc(f"paperset/pages/{problem}")
        status, reason = judge(listing, Answer(response.url, entries=len(page.entries), shown=page.page_key))
        if status == INCOMPLETE and reason == "no_entries" and self.fetch == "auto":
            logger.info("no data in %s; rendering it in the browser", response.url)
            yield self.browser_request(listing)
            return
        if status != COMPLETE:
            if reason == "no_entries":
                logger.warning("%s: no entries (%s)", response.url, ", ".join(page.problems))
            self.settle_page(response, listing, status, reason, page.page_key)
            return
        if page.problems:
            logger.warning("%s: %s (read %d entries from the cards)", response.url, ", ".join(page.problems),
                           len(page.entries))
        self._inc(f"paperset/listings/{page.source}")
        self._inc("paperset/fetch/page")
        self.count_page(page, "page", unmapped)
        self.settle(response.request, listing, COMPLETE)
        yield from self.emit(page.entries, "page")

    def count_page(self, page: ListingPage, path: str, unmapped: Counter[str]) -> None:
        """The key census of a listing page, and on a page read from its cards (no hydration JSON) each
        column the cards cannot carry, null in every entry: `paperset/not_on_path/cards/<column>`."""
        self.count_keys(f"{path}/listing", unmapped)
        if page.source == "cards" and page.entries:
            for name in NOT_ON_CARDS:
                self._inc(f"paperset/not_on_path/cards/{name}", len(page.entries))

    def settle_page(self, response: Response, listing: Listing, status: str, reason: str | None,
                    seen: str | None) -> None:
        """Settle a listing its page (or browser page) did not complete, counting why."""
        if reason != "no_entries":  # counted as a page problem (paperset/pages/, paperset/browser/)
            self._inc(_STAT.get(str(reason), f"paperset/listings/{reason}"))
        if status == EMPTY:
            logger.info("%s %s has no papers: the site shows %s", listing.kind, listing.key, seen)
        self.settle(response.request, listing, status, reason)

    @tracked
    def parse_browser(self, response: Response, listing: Listing) -> Iterator[Any]:
        unmapped: Counter[str] = Counter()
        page = parse_listing(response.text, url=response.url, kind=listing.kind, key=listing.key, unmapped=unmapped)
        status, reason = judge(listing, Answer(response.request.url, entries=len(page.entries), landed=response.url,
                                               offsite=not on_site(response.url, self.allowed_netlocs),
                                               shown=page.page_key))
        if status != COMPLETE:
            if reason == "no_entries":
                self._inc("paperset/browser/no_entries")
                logger.warning("%s: no entries even in the browser", response.url)
            self.settle_page(response, listing, status, reason, page.page_key or response.url)
            return
        self._inc("paperset/fetch/browser")
        self.count_page(page, "browser", unmapped)
        self.settle(response.request, listing, COMPLETE)
        yield from self.emit(page.entries, "browser")

    @tracked
    def browser_failed(self, failure: Failure) -> Iterator[Any]:
        self._inc(f"paperset/browser/{failure.type.__name__.lower()}")
        request = failure.request  # type: ignore[attr-defined]
        logger.error("browser failed on %s: %s", request.url, failure.value)
        self.settle(request, request.cb_kwargs["listing"], INCOMPLETE, f"browser: {failure_reason(failure)}")
        yield from ()

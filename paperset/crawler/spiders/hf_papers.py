"""The Hugging Face Papers spider: requests the asked listings along the cheapest path that has the
data (API, page JSON, browser) and hands each response to page code."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from paperset.crawler.fetch.hosts import allowed_netlocs, check_base_url, split_credentials
from paperset.crawler.fetch.politeness.unthrottled import refuse_unthrottled
from paperset.crawler.settings.fields import FETCH_MODES
from paperset.crawler.site.items import EntryBatch, PaperEntry
from paperset.crawler.site.kinds import FLAGS, nothing_to_crawl, switch_on
from paperset.crawler.site.listings import Listing, plan_listings
from paperset.crawler.site.pages import ApiAnswerError, parse_api_listing
from paperset.crawler.site.source import forget_items
from paperset.crawler.spiders.all_papers import ALL_PAPERS, AllPapers
from paperset.crawler.spiders.config import SpiderConfig
from paperset.crawler.spiders.details import PaperDetails, SweepRequests, sweep_ids
from paperset.crawler.spiders.links import PaperLinks
from paperset.crawler.spiders.page_path import PagePath
from paperset.crawler.tracking.coverage import (
    COMPLETE,
    EMPTY,
    INCOMPLETE,
    SETTLED,
    STAT,
    STATUSES,
    Answer,
    Coverage,
    failure_reason,
    judge,
    listing_settled,
)
from paperset.crawler.tracking.done import resume_requests, resumed_outcomes, tracked

logger = logging.getLogger(__name__)

class HfPapersSpider(PagePath, PaperDetails, PaperLinks, SweepRequests, AllPapers, scrapy.Spider):
    """Crawls daily, weekly, monthly, search and trending listings of Hugging Face Papers.

    Spider arguments (`-a name=value`, comma-separated for several): the listing flags of
    paperset/crawler/site/kinds.py (`day`, `week`, `month`, `range` (`START:END`), `search`, `trending`), `details`,
    `all_papers`, `sweep` (paper ids), `links` (docs/commands.md), `fetch` (auto, api, page, browser),
    `base_url`, `worker` (true: take requests from a distributed run's shared queue). Settings read:
    paperset/crawler/settings/fields.py.

    Every listing is settled (paperset/crawler/tracking/coverage.py): complete, empty for a reason, or incomplete with
    why; the report is the stat `paperset/coverage`, with counts `paperset/coverage/<status>`.

    `auto` asks the JSON API first, reads the page's hydration JSON when the API fails (an error
    status after retries, invalid JSON, an unknown shape), and renders the page in Chromium only when
    neither has the data. Stats `paperset/fetch/<path>` count the listings each path served.
    """

    name = "hf_papers"

    def __init__(
        self,
        details: Any = False,
        links: Any = False,
        fetch: str | None = None,
        base_url: str | None = None,
        worker: Any = False,
        sweep: str | list[str] | None = None,
        all_papers: Any = False,
        **kwargs: Any,
    ) -> None:
        asked = {flag.name: kwargs.pop(flag.name) for flag in FLAGS if flag.name in kwargs}
        super().__init__(**kwargs)
        self.listings: list[Listing] = plan_listings(asked)
        self.all_papers = switch_on(all_papers)
        if not self.listings and not self.all_papers and not os.environ.get("SCRAPY_CHECK"):
            raise ValueError(nothing_to_crawl(prefix=""))  # `scrapy check` asks for no listing
        if fetch is not None and fetch not in FETCH_MODES:
            raise ValueError(f"fetch must be one of {', '.join(FETCH_MODES)}, not {fetch!r}")
        self.fetch_arg, self.base_url_arg, self.details = fetch, base_url, switch_on(details)
        self.want_links = switch_on(links)
        self.detailed: set[str] = set()
        self.sweep = sweep_ids(sweep)
        self.coverage = Coverage([*self.listings, *([ALL_PAPERS] if self.all_papers else [])])
        # A worker of a distributed run takes its requests from the shared queue, seeded elsewhere.
        self.worker = switch_on(worker)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> HfPapersSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = SpiderConfig.from_settings(crawler.settings)  # read once, here
        # Credentials in the base URL go to HttpAuthMiddleware, never into a request URL (nor a log line).
        base_url, user, password = split_credentials(check_base_url(str(spider.base_url_arg or config.base_url)))
        spider.base_url = base_url.rstrip("/")
        refuse_unthrottled(spider.base_url, config.unthrottled)  # whatever starts the crawl
        if user is not None:
            spider.http_user, spider.http_pass = user, password or ""
            # The netloc (with its port): Scrapy compares it with each request's netloc, port included.
            spider.http_auth_domain = urlparse(spider.base_url).netloc
        spider.allowed_netlocs = allowed_netlocs(spider.base_url, config.allowed_hosts)
        spider.url_limit, spider.fetch = config.url_limit, spider.fetch_arg or config.fetch
        spider.api_page_size, spider.details_from_page = config.api_page_size, config.details_from_page
        spider.browser_args = config.browser_args
        spider.links_setup(config)
        return spider

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    def count_keys(self, endpoint: str, unmapped: Counter[str]) -> None:
        """The key census (paperset/spool/fields.py): each key an answer of `endpoint` (`api/daily_papers`,
        `api/papers/search`, `api/papers/ID`, `api/papers` (all papers), `page/listing`, `page/paper`,
        `browser/listing`) carried that no column maps, counted `paperset/unmapped_keys/<endpoint>/<key path>`."""
        for key, count in unmapped.items():
            self._inc(f"paperset/unmapped_keys/{endpoint}/{key}", count)

    def settle(self, request: scrapy.Request | None, listing: Listing, status: str, reason: str | None = None) -> None:
        """Record a listing's outcome (and on the request that settled it, for the ledger)."""
        if request is not None:
            request.meta[SETTLED] = [listing.kind, listing.key, status, reason]
        if status == INCOMPLETE:
            logger.error("%s %s is incomplete: %s", listing.kind, listing.key[:80], reason)
        self.coverage.settle(listing, status, reason)
        self.sweep_settled(listing, status)
        # Where else the outcome goes (a distributed run's Redis hash): a receiver's failure is the callback's.
        for _, result in self.crawler.signals.send_catch_log(listing_settled, listing=listing, status=status,
                                                             reason=reason):
            if isinstance(result, Failure):
                result.raiseException()

    def fixture_cases(self, response: scrapy.http.Response) -> list[Any]:
        """`scrapy check`'s contract of this spider: every saved page and API answer under fixtures/cases/
        extracts to its expected.json (paperset/crawler/site/contracts.py; `paperset fixture check` runs the same).

        @url data:,fixture-cases
        @fixture_cases fixtures
        """
        return []

    def seed_requests(self) -> list[scrapy.Request]:
        """The first request of every listing; a listing whose URL is longer than URLLENGTH_LIMIT is
        settled incomplete (`url_too_long`) instead of being dropped unseen by the middleware. Links left
        unknown by the last version come first."""
        seeds = self.links_retry_requests()
        for listing in self.listings:
            request = self.first_request(listing)
            if self.url_limit and len(request.url) > self.url_limit:
                self._inc("paperset/coverage/url_too_long")
                self.settle(None, listing, INCOMPLETE, f"url_too_long ({len(request.url)} > URLLENGTH_LIMIT "
                                                       f"{self.url_limit})")
                continue
            seeds.append(request)
        return seeds + self.all_papers_requests() + self.sweep_requests()

    def closed(self, reason: str) -> None:
        """Put the coverage report in the stats (before the spool writes them into its meta.json). A
        worker of a distributed run sees only the requests it took: it reports none."""
        forget_items()  # extraction's memory of known elements
        if self.worker:
            return

        def why(listing: Listing) -> str:
            # Finished with the listing unsettled: its next request was dropped without an errback (a
            # spider middleware: URL length, depth; the dupefilter).
            return "request_dropped" if reason == "finished" else f"crawl stopped ({reason})"

        self.links_close()
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

    # --- callbacks -------------------------------------------------------------------------------

    @tracked
    def parse_api(self, response: Response, listing: Listing, page: int) -> Iterator[Any]:
        try:
            if response.status != 200:
                yield from self.api_fallback(response.request, listing, page, f"http_{response.status}",
                                             response.url)
                return
            unmapped: Counter[str] = Counter()
            entries = parse_api_listing(response.text, url=response.url, kind=listing.kind, key=listing.key,
                                        offset=page * self.api_page_size, unmapped=unmapped)
        except ApiAnswerError as exc:
            yield from self.api_fallback(response.request, listing, page, exc.reason, response.url)
            return
        if page == 0:
            status, reason = judge(listing, Answer(response.url, entries=len(entries), api=True))
            if status == EMPTY:
                self._inc(f"paperset/listings/{reason}")
                self.settle(response.request, listing, EMPTY, reason)
                return
            self._inc("paperset/fetch/api")
        self.count_keys("api/papers/search" if listing.kind == "search" else "api/daily_papers", unmapped)
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
    def request_failed(self, failure: Failure) -> Iterator[Any]:
        """A page or paper request that failed for good (after retries, or refused by robots.txt)."""
        self._inc(f"paperset/failed/{failure.type.__name__.lower()}")
        request = failure.request  # type: ignore[attr-defined]
        logger.error("%s failed: %s", request.url, failure.value)
        if "listing" in request.cb_kwargs:
            self.settle(request, request.cb_kwargs["listing"], INCOMPLETE, failure_reason(failure))
        yield from ()

    def emit(self, entries: list[PaperEntry], path: str) -> Iterator[Any]:
        """A response's entries as one item (EntryBatch: Scrapy's per-item machinery once per page, not
        per entry), then the lookups of the papers new to this crawl (details, links)."""
        crawled_at = datetime.now(UTC).isoformat()
        for entry in entries:
            entry.crawled_at = crawled_at
            entry.fetch_path = path
        # (An id of the wrong type is the normalizer's to reject, not a paper to ask for.) Read before the
        # batch leaves: the pipelines may clean the entries while this generator waits.
        asked = list(dict.fromkeys(e.paper_id for e in entries if (self.details or self.want_links)
                                   and type(e.paper_id) is str and e.paper_id and e.paper_id not in self.detailed))
        self.detailed.update(asked)
        if entries:
            yield EntryBatch(list(entries))
        for paper_id in asked:
            yield from self.lookups(paper_id)

    def lookups(self, paper_id: str, *, details: bool = False) -> Iterator[scrapy.Request]:
        """A new paper's details (`details`: whatever --details says; the sweep's) and links: one API
        answer serves both when both are on."""
        detail = self.detail_request(paper_id) if self.details or details else None
        if detail is not None:
            yield detail
        if self.want_links and (detail is None or detail.callback != self.parse_detail or not detail.cb_kwargs["api"]):
            yield self.links_paper_request(paper_id)
        elif self.want_links:
            self.links_calls += 1


"""The Hugging Face Papers spider: requests the asked listings and hands each response to page code."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlparse

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.items import PaperEntry
from crawler.listings import Listing, plan_listings
from crawler.pages.hf import parse_listing

logger = logging.getLogger(__name__)


class HfPapersSpider(scrapy.Spider):
    """Crawls daily, weekly and monthly listings of Hugging Face Papers.

    Spider arguments (`-a name=value`, comma-separated for several): `day`, `week`, `month`,
    `range` (`START:END`, every day in between), `base_url`. Settings read: `PAPERSET_BASE_URL`.
    """

    name = "hf_papers"

    def __init__(
        self,
        day: str | list[str] | None = None,
        week: str | list[str] | None = None,
        month: str | list[str] | None = None,
        range: str | list[str] | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.listings: list[Listing] = plan_listings(days=day, weeks=week, months=month, ranges=range)
        if not self.listings:
            raise ValueError("nothing to crawl: give at least one of day, week, month or range")
        self.base_url_arg = base_url

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> HfPapersSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        base = spider.base_url_arg or crawler.settings.get("PAPERSET_BASE_URL")
        spider.base_url = str(base).rstrip("/")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for listing in self.listings:
            yield self.listing_request(listing, self.base_url + listing.page_path())

    def listing_request(self, listing: Listing, url: str) -> scrapy.Request:
        # Redirects are handled here, not followed blindly: the site answers a day with no papers by
        # redirecting to the latest day, whose papers must not be filed under the asked day.
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            cb_kwargs={"listing": listing},
            meta={"dont_redirect": True, "handle_httpstatus_list": [301, 302, 303, 307, 308]},
        )

    def parse_listing(self, response: Response, listing: Listing) -> Iterator[PaperEntry | scrapy.Request]:
        stats = self.crawler.stats
        assert stats is not None
        if 300 <= response.status < 400:
            location = urljoin(response.url, response.headers.get("Location", b"").decode("latin-1"))
            if urlparse(location).path.rstrip("/").endswith(listing.key):
                yield self.listing_request(listing, location)
                return
            stats.inc_value("paperset/listings/no_papers")
            logger.info("%s %s has no papers: the site redirects to %s", listing.kind, listing.key, location)
            return
        page = parse_listing(response.text, url=response.url, kind=listing.kind, key=listing.key)
        for reason in page.problems:
            stats.inc_value(f"paperset/pages/{reason}")
        if page.problems:
            logger.warning("%s: %s (read %d entries from %s)", response.url, ", ".join(page.problems),
                           len(page.entries), page.source)
        if listing.kind == "day" and page.page_key and page.page_key != listing.key:
            stats.inc_value("paperset/listings/no_papers")
            logger.info("day %s has no papers: the page shows %s", listing.key, page.page_key)
            return
        stats.inc_value(f"paperset/listings/{page.source}")
        stats.inc_value("paperset/fetch/page")
        crawled_at = datetime.now(UTC).isoformat()
        for entry in page.entries:
            entry.crawled_at = crawled_at
            entry.fetch_path = "page"
            yield entry

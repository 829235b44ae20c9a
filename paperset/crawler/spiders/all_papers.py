"""The spider's `all_papers`: the site's paged list of every indexed paper (`/api/papers?limit=N`, then
the URL each answer announces in its `Link: <…>; rel="next"` header, an opaque cursor), so a crawl can
hold papers that never reached Daily Papers. It is the listing `all papers`, settled like any other:
complete when an answer announces no next page, incomplete when a page fails (no page path serves this
list). Each page is a request whose callback makes the next one, so a killed crawl's ledger holds the
last cursor reached and a resumed crawl asks from there (paperset/crawler/tracking/done.py). Entries are listing
kind `all`, key `papers`, with no rank (a position in an ever-growing list is not a fact of the paper).
Stats: `paperset/all_papers/pages`, `paperset/all_papers/papers`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from paperset.crawler.fetch.hosts import on_site
from paperset.crawler.site.listings import Listing
from paperset.crawler.site.pages import ApiAnswerError, parse_api_listing
from paperset.crawler.tracking.coverage import COMPLETE, INCOMPLETE, failure_reason
from paperset.crawler.tracking.done import tracked

ALL_PAPERS = Listing("all", "papers")
_NEXT = re.compile(r"<([^>]*)>\s*;[^,]*\brel=\"?next\"?", re.IGNORECASE)


def next_link(header: bytes | None) -> str | None:
    """The `rel="next"` URL of a `Link` header, if any."""
    if not header:
        return None
    match = _NEXT.search(header.decode("latin-1"))
    return match.group(1) if match else None


class AllPapers:
    """Mixed into HfPapersSpider (which gives `base_url`, `api_page_size`, `allowed_netlocs`, `settle`,
    `emit`, `_inc`, `count_keys`)."""

    all_papers: bool
    base_url: str
    api_page_size: int
    allowed_netlocs: Any
    settle: Any
    emit: Any
    _inc: Any
    count_keys: Any

    def all_papers_requests(self) -> list[scrapy.Request]:
        """The list's first page, when asked for."""
        if not self.all_papers:
            return []
        return [self.all_papers_request(f"{self.base_url}/api/papers?limit={self.api_page_size}", 0)]

    def all_papers_request(self, url: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_all_papers, errback=self.all_papers_failed,
                              cb_kwargs={"page": page}, meta={"handle_httpstatus_all": True, "dont_redirect": True})

    @tracked
    def parse_all_papers(self, response: Response, page: int) -> Iterator[Any]:
        if response.status != 200:
            yield from self.all_papers_short(response.request, page, f"http_{response.status}")
            return
        unmapped: Counter[str] = Counter()
        try:
            entries = parse_api_listing(response.text, url=response.url, kind=ALL_PAPERS.kind, key=ALL_PAPERS.key,
                                        unmapped=unmapped)
        except ApiAnswerError as exc:
            yield from self.all_papers_short(response.request, page, exc.reason)
            return
        if page == 0 and not entries:
            yield from self.all_papers_short(response.request, page, "no_entries")
            return
        for entry in entries:
            entry.rank = None
        self._inc("paperset/all_papers/pages")
        self._inc("paperset/all_papers/papers", len(entries))
        self.count_keys("api/papers", unmapped)
        yield from self.emit(entries, "api")
        url = next_link(response.headers.get("Link"))
        if url is None:
            self.settle(response.request, ALL_PAPERS, COMPLETE)
            return
        url = urljoin(response.url, url)
        if not on_site(url, self.allowed_netlocs):
            yield from self.all_papers_short(response.request, page, "offsite_next_link")
            return
        yield self.all_papers_request(url, page + 1)

    @tracked
    def all_papers_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        yield from self.all_papers_short(request, request.cb_kwargs["page"], failure_reason(failure))

    def all_papers_short(self, request: scrapy.Request, page: int, reason: str) -> Iterator[Any]:
        self._inc(f"paperset/all_papers/{reason}")
        self.settle(request, ALL_PAPERS, INCOMPLETE, f"api page {page}: {reason}")
        yield from ()

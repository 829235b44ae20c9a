"""The spider's paper details (`details`): each paper's API answer, else its page. A paper whose details
end without either is settled incomplete as the listing `details <id>` (paperset.crawler.tracking.coverage.judge's rule
for its page's redirects: to itself, a loop; elsewhere, `unexpected_redirect`).

Also the spider's refresh sweep (`sweep`: comma-separated paper ids, chosen by paperset/app/sweep.py): older
papers whose counters are asked again through the details path (`/api/papers/{id}`, else the paper's
page), whatever listings the crawl has; with `links` on, their Hub links too (paperset/crawler/spiders/links.py).
A swept paper whose lookup fails is settled incomplete as `details <id>` (its links as `links <id>`),
like any paper's, so the run says it is short (exit 5). Stats: `paperset/sweep/asked` (papers asked),
`paperset/sweep/failed` (their lookups settled incomplete), `paperset/sweep/already` (asked through a
listing's details already)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from paperset.crawler.fetch.hosts import on_site
from paperset.crawler.site.listings import Listing
from paperset.crawler.site.pages import ExtractionError, parse_api_paper, parse_paper_page
from paperset.crawler.spiders.links import LINKS_ONLY, PAPER_KEYS
from paperset.crawler.tracking.coverage import FOLLOW, INCOMPLETE, Answer, failure_reason, judge
from paperset.crawler.tracking.done import tracked

_REDIRECTS = [301, 302, 303, 307, 308]
_HOPS = "paperset_redirects"
# An arXiv id the site serves papers under (new style; old-style ids carry a slash no path takes).
PAPER_ID = re.compile(r"^\d{4}\.\d{4,5}$")


class PaperDetails:
    """Requests and callbacks of the details path, mixed into HfPapersSpider (which gives `base_url`,
    `fetch`, `allowed_netlocs`, `settle`, `_inc`; `details_from_page`: the setting PAPERSET_DETAILS_FROM_PAGE,
    each paper's page asked first: its upvoters and dailyPaperRank, which the API lacks)."""

    base_url: str
    fetch: str
    allowed_netlocs: Any

    def detail_request(self, paper_id: str, *, page: bool = False, url: str | None = None,
                       hops: int = 0) -> scrapy.Request:
        if self.fetch in ("auto", "api") and not page and not getattr(self, "details_from_page", False):
            return scrapy.Request(f"{self.base_url}/api/papers/{paper_id}", callback=self.parse_detail,
                                  errback=self.detail_errback, cb_kwargs={"paper_id": paper_id, "api": True},
                                  meta={"handle_httpstatus_all": True})
        # Redirects are judged here (Scrapy's would send a redirect to itself to the dupefilter, unseen).
        return scrapy.Request(url or f"{self.base_url}/papers/{paper_id}", callback=self.parse_detail,
                              errback=self.detail_errback, cb_kwargs={"paper_id": paper_id, "api": False},
                              dont_filter=hops > 0,
                              meta={"dont_redirect": True, "handle_httpstatus_list": _REDIRECTS, _HOPS: hops})

    @tracked
    def parse_detail(self, response: Response, paper_id: str, api: bool) -> Iterator[Any]:
        if not api and 300 <= response.status < 400:
            yield from self.detail_redirected(response, paper_id)
            return
        if response.request.meta.get(LINKS_ONLY):
            links: Any = self
            yield from (links.links_from_paper(response, paper_id) if response.status == 200
                        else links.links_failed(response.request, paper_id, f"http_{response.status}"))
            return
        try:
            if response.status != 200:
                yield from self.detail_failed(f"http_{response.status}", paper_id, api, response.request)
                return
            unmapped: Counter[str] = Counter()
            if api:
                entry = parse_api_paper(response.text, url=response.url, unmapped=unmapped)
            else:
                entry = parse_paper_page(response.text, url=response.url, unmapped=unmapped)
        except ExtractionError as exc:  # an API answer's or a page's
            yield from self.detail_failed(exc.reason, paper_id, api, response.request)
            return
        if api and self.want_links:  # type: ignore[attr-defined]
            yield from self.links_from_paper(response, paper_id)  # type: ignore[attr-defined]
            for key in PAPER_KEYS:  # kept by the links path, so not "seen and not kept"
                unmapped.pop(f"paper.{key}", None)
        self._inc(f"paperset/details/{'api' if api else 'page'}")
        self.count_keys("api/papers/ID" if api else "page/paper", unmapped)
        entry.crawled_at = datetime.now(UTC).isoformat()
        entry.fetch_path = "api" if api else "page"
        yield entry

    def detail_redirected(self, response: Response, paper_id: str) -> Iterator[scrapy.Request]:
        location = urljoin(response.url, response.headers.get("Location", b"").decode("latin-1"))
        hops = response.request.meta.get(_HOPS, 0)
        status, reason = judge(Listing("details", paper_id), Answer(
            response.url, location=location, offsite=not on_site(location, self.allowed_netlocs), hops=hops))
        if status == FOLLOW:
            yield self.detail_request(paper_id, page=True, url=location, hops=hops + 1)
        else:
            yield from self.detail_failed(str(reason), paper_id, False, response.request)

    @tracked
    def detail_errback(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        yield from self.detail_failed(failure_reason(failure), request.cb_kwargs["paper_id"],
                                      request.cb_kwargs["api"], request)

    def detail_failed(self, reason: str, paper_id: str, api: bool,
                      request: scrapy.Request) -> Iterator[scrapy.Request]:
        """Count why a paper's details could not be read; from the API, ask the paper's page instead (auto),
        else settle the paper's details incomplete."""
        if api and self.want_links:  # type: ignore[attr-defined]
            yield from self.links_failed(request, paper_id, reason)  # type: ignore[attr-defined]
        if request.meta.get(LINKS_ONLY):
            return
        self._inc(f"paperset/details/{reason}")
        if api and self.fetch == "auto" and reason not in ("robots_txt", "offsite"):
            yield self.detail_request(paper_id, page=True)
            return
        self.settle(request, Listing("details", paper_id), INCOMPLETE, f"api: {reason}" if api else reason)


def sweep_ids(value: str | list[str] | None) -> list[str]:
    """The spider argument's ids in order, each once; ValueError names one that is not a paper id."""
    if not value:
        return []
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in v.split(",")]
    ids = [p.strip() for p in parts if p.strip()]
    bad = [p for p in ids if not PAPER_ID.match(p)]
    if bad:
        raise ValueError(f"sweep: not a paper id: {bad[0]!r}")
    return list(dict.fromkeys(ids))


class SweepRequests:
    """Mixed into HfPapersSpider (which gives `lookups`, `detailed`, `_inc`)."""

    sweep: list[str]
    detailed: set[str]
    lookups: Any
    _inc: Any

    def sweep_settled(self, listing: Any, status: str) -> None:
        """Count a swept paper's details that ended incomplete (once a paper; a distributed run's worker
        counts the papers it had)."""
        if listing.kind != "details" or status != "incomplete" or listing.key not in self.sweep:
            return
        failed = self.__dict__.setdefault("sweep_failed", set())
        if listing.key not in failed:
            failed.add(listing.key)
            self._inc("paperset/sweep/failed")

    def sweep_requests(self) -> list[scrapy.Request]:
        """The details of each swept paper not already asked for and, with links on, its links (one API
        answer serves both; a page's details need the answer for the links besides)."""
        out = []
        for paper_id in self.sweep:
            self._inc("paperset/sweep/asked")
            if paper_id in self.detailed:
                self._inc("paperset/sweep/already")
                continue
            self.detailed.add(paper_id)
            out += self.lookups(paper_id, details=True)
        return out

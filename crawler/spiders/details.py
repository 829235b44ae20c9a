"""The spider's paper details (`details`): each paper's API answer, else its page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.checkpoint import tracked
from crawler.pages.hf import ExtractionError, parse_api_paper, parse_paper_page


class PaperDetails:
    """Requests and callbacks of the details path, mixed into HfPapersSpider (which gives `base_url`,
    `fetch`, `_inc`, `request_failed`)."""

    base_url: str
    fetch: str

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

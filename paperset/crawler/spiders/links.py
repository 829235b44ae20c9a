"""The spider's Hub links (`links`, issue 24): each paper's `/api/papers/{id}` answer gives previews of
the models, datasets and Spaces citing it and their true totals; where a total exceeds its preview the
filter listing (`/api/models?filter=arxiv:ID`, ...) is paged by `Link: rel="next"`, and the collections
holding the paper (`/api/collections?item=papers/ID`) likewise.

Every answer becomes one line of the links file (`PAPERSET_LINKS_OUT`, else `links.jsonl` in the spool):
`part` `paper` (totals, previews, the `chains` still to page), a page of a chain (`models`, `datasets`,
`spaces`, `collections`; `last` on a chain's last page), or `failed` (with `reason`). The packager
(paperset/packager/links.py) counts a paper's links known only when its paper answer and every chain's last page
are there; otherwise it is unknown, never 0 links. A failed lookup is also settled incomplete as the
listing `links <id>` (the run exits 5; the next run of the same plan asks only what is missing, first).

Own budget: at most PAPERSET_LINKS_MAX_CALLS link calls a crawl (0: no cap; API budgets and 429
handling of paperset/crawler/fetch/politeness apply as to every API call); a paper whose pages would go past it is
left unknown (`links_budget`). Stats: `paperset/links/<counter>`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from paperset.crawler.site.json_text import read_json
from paperset.crawler.site.listings import Listing
from paperset.crawler.spiders.all_papers import next_link
from paperset.crawler.spiders.config import SpiderConfig
from paperset.crawler.tracking.coverage import INCOMPLETE, failure_reason
from paperset.crawler.tracking.done import tracked
from paperset.spool.writer import cut_partial_line

KINDS = ("models", "datasets", "spaces")
CHAINS = (*KINDS, "collections")
TOTAL_KEYS = {"models": "numTotalModels", "datasets": "numTotalDatasets", "spaces": "numTotalSpaces"}
PREVIEW_KEYS = {"models": "linkedModels", "datasets": "linkedDatasets", "spaces": "linkedSpaces"}
# The `/api/papers/ID` keys this path keeps (in the links file): with --links on, not "not kept" in the census.
PAPER_KEYS = (*TOTAL_KEYS.values(), *PREVIEW_KEYS.values())
LINKS_ONLY = "paperset_links_only"
PAGE_LIMIT = 100
# What is kept of each listed repo and collection.
REPO_FIELDS = ("id", "likes", "downloads")
COLLECTION_FIELDS = ("slug", "title", "upvotes")


def keep_entries(chain: str, items: Any) -> list[dict[str, Any]] | None:
    """The kept fields of a list's entries; None when the answer is not a list of entries with a string id."""
    key, fields = ("slug", COLLECTION_FIELDS) if chain == "collections" else ("id", REPO_FIELDS)
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
        return None
    rows = []
    for item in items:
        row = {name: item.get(name) for name in fields}
        if chain == "collections":
            owner = item.get("owner")
            row["owner"] = owner.get("name") if isinstance(owner, dict) else None
        rows.append(row)
    return rows


class PaperLinks:
    """Requests and callbacks of the links path, mixed into HfPapersSpider (which gives `base_url`,
    `settle`, `_inc`, `crawler`)."""

    base_url: str
    want_links: bool
    crawler: Any

    def links_setup(self, config: SpiderConfig) -> None:
        """The links path's budget and files, from the spider's config (read once by `from_crawler`)."""
        self.links_max_calls = config.links_max_calls
        self.links_calls = 0
        self.links_out: Path | None = config.links_file
        self.links_retry = config.links_retry
        self._links_file: IO[str] | None = None

    def links_write(self, record: dict[str, Any]) -> None:
        if self.links_out is None:
            return
        if self._links_file is None:
            self.links_out.parent.mkdir(parents=True, exist_ok=True)
            cut_partial_line(self.links_out)  # a killed crawl's half line: never glued to the next record
            self._links_file = self.links_out.open("a", encoding="utf-8")
        self._links_file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._links_file.flush()

    def links_close(self) -> None:
        if self._links_file is not None:
            self._links_file.close()
            self._links_file = None

    def links_retry_requests(self) -> list[scrapy.Request]:
        """The lookups of PAPERSET_LINKS_RETRY's papers (the last version's unknown links), first."""
        path = self.links_retry
        if not self.want_links or not path or not Path(path).exists():
            return []
        requests = []
        for paper_id in json.loads(Path(path).read_text(encoding="utf-8")):
            if paper_id not in self.detailed:  # type: ignore[attr-defined]
                self.detailed.add(paper_id)  # type: ignore[attr-defined]
                requests += self.lookups(paper_id)  # type: ignore[attr-defined]
        self._inc_by("paperset/links/retried", len(requests))
        return requests

    def _inc_by(self, key: str, count: int) -> None:
        if count:
            self.crawler.stats.inc_value(key, count)

    def links_paper_request(self, paper_id: str) -> scrapy.Request:
        """The paper's API answer for its links alone (the details path asks the same URL when on)."""
        self.links_calls += 1
        return scrapy.Request(f"{self.base_url}/api/papers/{paper_id}", callback=self.parse_detail,
                              errback=self.detail_errback, cb_kwargs={"paper_id": paper_id, "api": True},
                              meta={"handle_httpstatus_all": True, LINKS_ONLY: True})

    def link_page_request(self, paper_id: str, chain: str, url: str | None = None) -> scrapy.Request:
        if url is None:
            query = f"item=papers/{quote(paper_id)}" if chain == "collections" else f"filter=arxiv:{quote(paper_id)}"
            url = f"{self.base_url}/api/{chain}?{query}&limit={PAGE_LIMIT}"
        self.links_calls += 1
        return scrapy.Request(url, callback=self.parse_link_page, errback=self.link_page_failed,
                              cb_kwargs={"paper_id": paper_id, "chain": chain}, meta={"handle_httpstatus_all": True})

    def links_affordable(self, calls: int) -> bool:
        return not self.links_max_calls or self.links_calls + calls <= self.links_max_calls

    def links_from_paper(self, response: Response, paper_id: str) -> Iterator[scrapy.Request]:
        """A paper's API answer: write its totals and previews, ask the chains its previews leave open."""
        self._inc("paperset/links/calls")
        try:
            data = read_json(response.text)
        except ValueError:
            yield from self.links_failed(response.request, paper_id, "bad_json")
            return
        data = data if isinstance(data, dict) else {}
        totals = {kind: data.get(TOTAL_KEYS[kind]) for kind in KINDS}
        # A preview left out is an empty one (its total says whether to page); a malformed one is not.
        previews = {kind: keep_entries(kind, data.get(PREVIEW_KEYS[kind], [])) for kind in KINDS}
        if any(type(t) is not int or t < 0 for t in totals.values()) or any(p is None for p in previews.values()):
            yield from self.links_failed(response.request, paper_id, "no_links_fields")
            return
        chains = [kind for kind in KINDS if totals[kind] > len(previews[kind] or [])] + ["collections"]
        if not self.links_affordable(len(chains)):
            yield from self.links_failed(response.request, paper_id, "links_budget")
            return
        self.links_write({"paper_id": paper_id, "part": "paper", "observed_at": datetime.now(UTC).isoformat(),
                          "totals": totals, "items": previews, "chains": chains})
        for chain in chains:
            yield self.link_page_request(paper_id, chain)

    @tracked
    def parse_link_page(self, response: Response, paper_id: str, chain: str) -> Iterator[scrapy.Request]:
        self._inc("paperset/links/calls")
        if response.status != 200:
            yield from self.links_failed(response.request, paper_id, f"http_{response.status}")
            return
        try:
            items = keep_entries(chain, read_json(response.text))
        except ValueError:
            items = None
        if items is None:
            yield from self.links_failed(response.request, paper_id, "bad_json")
            return
        follow = next_link(response.headers.get("Link"))
        if follow is not None and not self.links_affordable(1):
            yield from self.links_failed(response.request, paper_id, "links_budget")
            return
        self.links_write({"paper_id": paper_id, "part": chain, "observed_at": datetime.now(UTC).isoformat(),
                          "items": items, "last": follow is None})
        if follow is not None:
            yield self.link_page_request(paper_id, chain, response.urljoin(follow))
        else:
            self._inc(f"paperset/links/chains/{chain}")

    @tracked
    def link_page_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        yield from self.links_failed(request, request.cb_kwargs["paper_id"], failure_reason(failure))

    def links_failed(self, request: scrapy.Request, paper_id: str, reason: str) -> Iterator[scrapy.Request]:
        """A paper's links are unknown this run: counted, written, settled incomplete (asked again first)."""
        self._inc("paperset/links/failed")
        self._inc(f"paperset/links/failed/{reason}")
        self.links_write({"paper_id": paper_id, "part": "failed", "reason": reason,
                          "observed_at": datetime.now(UTC).isoformat()})
        self.settle(request, Listing("links", paper_id), INCOMPLETE, f"links: {reason}")  # type: ignore[attr-defined]
        yield from ()

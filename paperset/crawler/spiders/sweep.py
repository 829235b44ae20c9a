"""The spider's refresh sweep (`sweep`: comma-separated paper ids, chosen by paperset/app/sweep.py): older
papers whose counters are asked again through the details path (`/api/papers/{id}`, else the paper's
page), whatever listings the crawl has; with `links` on, their Hub links too (paperset/crawler/spiders/links.py).
A swept paper whose lookup fails is settled incomplete as `details <id>` (its links as `links <id>`),
like any paper's, so the run says it is short (exit 5). Stats: `paperset/sweep/asked` (papers asked),
`paperset/sweep/failed` (their lookups settled incomplete), `paperset/sweep/already` (asked through a
listing's details already)."""

from __future__ import annotations

import re
from typing import Any

import scrapy

# An arXiv id the site serves papers under (new style; old-style ids carry a slash no path takes).
PAPER_ID = re.compile(r"^\d{4}\.\d{4,5}$")


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

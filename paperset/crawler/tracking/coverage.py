"""Completeness accounting: every listing asked for ends complete, empty for a reason (a day without
papers), or incomplete with why (an HTTP status after retries, a timeout, a redirect loop, robots.txt,
a request a middleware dropped). The spider settles each listing; the run decides what to publish.

What an answer means is one rule for every kind and every path (`judge`): a listing is empty only when
the site says so in the way its kind's "nothing here" looks (paperset/crawler/site/kinds.py, `Kind.empty`); a redirect
to itself, a redirect somewhere else for a kind that is never sent away, an answer without entries is
incomplete.

A request that settles its listing carries the outcome in `meta[SETTLED]`; the spool's ledger keeps
complete and empty outcomes, so a resumed crawl knows them, and never records a request that left its
listing incomplete, so a resumed crawl asks it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twisted.python.failure import Failure

from paperset.crawler.site.kinds import KINDS
from paperset.crawler.site.listings import Listing

COMPLETE, EMPTY, INCOMPLETE = "complete", "empty", "incomplete"
STATUSES = (COMPLETE, EMPTY, INCOMPLETE)
# judge's verdict on a redirect to another spelling of the same listing: ask it (not a status).
FOLLOW = "follow"
# A listing page redirected more often than this (to itself, or around a cycle) is a redirect loop.
MAX_PAGE_REDIRECTS = 3
# request.meta key: the (status, reason) this request settled its listing with.
SETTLED = "paperset_settled"
STAT = "paperset/coverage"
# The Scrapy signal the spider sends as it settles a listing (arguments: listing, status, reason): a
# distributed run's coordinator and workers connect paperset.crawler.distributed.queue.coverage_sink to it.
listing_settled = object()
# The finish reason of a crawl given up because the site could not be reached (paperset/crawler/fetch/handler.py); here,
# not in the handler, so that a command reading it (the coordinator of a distributed run) does not import
# the download handlers.
UNREACHABLE = "site_unreachable"


def label(listing: Listing) -> str:
    """How a listing is named in messages, the manifest and the card: `day 2025-02-03`."""
    return f"{listing.kind} {listing.key}"


def failure_reason(failure: Failure) -> str:
    """Why a request failed, in one word: `http_500`, `robots_txt`, `offsite`, `timeouterror`, ..."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    own = getattr(failure.value, "paperset_reason", None)  # our own failures name theirs (not_in_archive)
    if isinstance(own, str):
        return own
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(IgnoreRequest):
        text = str(failure.value).lower()
        if "robots.txt" in text:
            return "robots_txt"
        if "offsite" in text or "another host" in text:
            return "offsite"
        return "ignored"
    return failure.type.__name__.lower() if failure.type else "failed"


@dataclass(frozen=True)
class Answer:
    """What one answer on a listing's path said, as `judge` reads it. `asked` is the URL asked; `location`
    a redirect's target (absolute; `offsite` when on another host), `landed` where a client that follows
    redirects itself (the browser) ended; `shown` the period the page says it shows; `entries` how many it
    gave; `api` whether it is the first page of an API answer; `hops` redirects followed before it.
    `offsite`: the redirect, or where the browser landed, is not on the site (nor an http(s) page)."""

    asked: str
    entries: int = 0
    location: str | None = None
    offsite: bool = False
    landed: str | None = None
    shown: str | None = None
    api: bool = False
    hops: int = 0


def judge(listing: Listing, answer: Answer) -> tuple[str, str | None]:
    """The one rule, for every kind and path: (status, reason), or (FOLLOW, None) for a redirect to the
    same listing. An answer without entries that is not the kind's "nothing here" is (INCOMPLETE,
    `no_entries`): a path with another path after it (auto: page, then browser) asks that one instead."""
    nothing_here = KINDS[listing.kind].empty
    if answer.offsite:
        return INCOMPLETE, "offsite_redirect"
    if answer.location is not None:
        if answer.location == answer.asked:
            return INCOMPLETE, "redirect_loop"
        if listing.shown_at(answer.location):
            return (INCOMPLETE, "redirect_loop") if answer.hops >= MAX_PAGE_REDIRECTS else (FOLLOW, None)
    where = answer.location or answer.landed
    if where is not None and not listing.shown_at(where):
        # Sent to another page of the site: a period's "nothing here" (the latest day); for a search or
        # trending, which the site never sends away, nothing says the listing is empty.
        return (EMPTY, nothing_here) if listing.period and nothing_here else (INCOMPLETE, "unexpected_redirect")
    if listing.period and answer.shown and not listing.covers(answer.shown):
        return EMPTY, nothing_here
    if answer.entries:
        return COMPLETE, None
    if answer.api and nothing_here:
        return EMPTY, nothing_here
    return INCOMPLETE, "no_entries"


class Coverage:
    """The outcome of every listing asked for: `settle` records one (the first complete or empty
    outcome wins over a later failure of a duplicate request; an incomplete one is replaced when the
    listing later completes). A listing found during the crawl (a paper's `details`) is reported once
    settled: the spider settles a paper's details only when they end incomplete."""

    def __init__(self, listings: Iterable[Listing]) -> None:
        self.listings = list(listings)
        self.planned = set(self.listings)
        self.outcomes: dict[Listing, tuple[str, str | None]] = {}

    def settle(self, listing: Listing, status: str, reason: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown listing status {status!r}")
        if listing not in self.planned:
            self.planned.add(listing)
            self.listings.append(listing)
        before = self.outcomes.get(listing)
        if before is not None and before[0] != INCOMPLETE and status == INCOMPLETE:
            return
        self.outcomes[listing] = (status, reason)

    def report(self, unsettled_reason: Any = "request_dropped") -> list[dict[str, Any]]:
        """One record a listing, in crawl order: kind, key, status, reason (None when complete).
        `unsettled_reason(listing)` (or a constant) says why a listing never settled."""
        out = []
        for listing in self.listings:
            status, reason = self.outcomes.get(listing, (INCOMPLETE, None))
            if listing not in self.outcomes:
                reason = unsettled_reason(listing) if callable(unsettled_reason) else unsettled_reason
            out.append({"kind": listing.kind, "key": listing.key, "status": status, "reason": reason})
        return out


def incomplete(report: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The incomplete listings of a coverage report."""
    return [r for r in report or [] if r["status"] == INCOMPLETE]


def describe(records: list[dict[str, Any]]) -> str:
    """`day 2025-02-03 (http_500), search Seeker (robots_txt)`."""
    return ", ".join(f"{r['kind']} {r['key'][:60]}{'...' if len(r['key']) > 60 else ''} ({r['reason']})"
                     for r in records)

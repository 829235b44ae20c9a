"""Completeness accounting: every listing asked for ends complete, empty for a reason (a day without
papers), or incomplete with why (an HTTP status after retries, a timeout, a redirect loop, robots.txt,
a request a middleware dropped). The spider settles each listing; the run decides what to publish.

A request that settles its listing carries the outcome in `meta[SETTLED]`; the spool's ledger keeps
complete and empty outcomes, so a resumed crawl knows them, and never records a request that left its
listing incomplete, so a resumed crawl asks it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.python.failure import Failure

from crawler.listings import Listing

COMPLETE, EMPTY, INCOMPLETE = "complete", "empty", "incomplete"
STATUSES = (COMPLETE, EMPTY, INCOMPLETE)
# request.meta key: the (status, reason) this request settled its listing with.
SETTLED = "paperset_settled"
STAT = "paperset/coverage"
# The finish reason of a crawl given up because the site could not be reached (crawler/handler.py); here,
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


class Coverage:
    """The outcome of every listing asked for: `settle` records one (the first complete or empty
    outcome wins over a later failure of a duplicate request; an incomplete one is replaced when the
    listing later completes)."""

    def __init__(self, listings: Iterable[Listing]) -> None:
        self.listings = list(listings)
        self.outcomes: dict[Listing, tuple[str, str | None]] = {}

    def settle(self, listing: Listing, status: str, reason: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown listing status {status!r}")
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

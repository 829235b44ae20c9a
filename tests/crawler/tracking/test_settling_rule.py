"""The one settling rule (paperset.crawler.tracking.coverage.judge): every kind and every path, the same answers give
the same outcome; only what the site's "nothing here" looks like differs by kind (paperset.crawler.site.listings)."""

from __future__ import annotations

import pytest

from paperset.crawler.site.listings import Listing
from paperset.crawler.tracking.coverage import COMPLETE, EMPTY, FOLLOW, INCOMPLETE, MAX_PAGE_REDIRECTS, Answer, judge

SITE = "https://huggingface.co"
KINDS = [Listing("day", "2025-02-05"), Listing("week", "2025-W06"), Listing("month", "2025-02"),
         Listing("search", "Seeker agents"), Listing("trending", "trending")]


def page(listing: Listing) -> str:
    return SITE + listing.page_path()


@pytest.mark.parametrize("listing", KINDS, ids=lambda listing: listing.kind)
def test_a_page_redirecting_to_itself_is_a_loop_for_every_kind(listing) -> None:
    url = page(listing)
    assert judge(listing, Answer(url, location=url)) == (INCOMPLETE, "redirect_loop")
    # Another spelling of the same listing is followed, a bounded number of times.
    other = url + ("&x=1" if "?" in url else "/")
    assert judge(listing, Answer(url, location=other)) == (FOLLOW, None)
    assert judge(listing, Answer(other, location=url, hops=MAX_PAGE_REDIRECTS)) == (INCOMPLETE, "redirect_loop")
    assert judge(listing, Answer(url, location="https://elsewhere.example/x", offsite=True)) == \
        (INCOMPLETE, "offsite_redirect")
    # The browser ending on another host or an error page is no "nothing here" either.
    assert judge(listing, Answer(url, entries=3, landed="chrome-error://chromewebdata/", offsite=True)) == \
        (INCOMPLETE, "offsite_redirect")


@pytest.mark.parametrize(("listing", "sent_away", "api_empty"), [
    (KINDS[0], (EMPTY, "no_papers"), (EMPTY, "no_papers")),
    (KINDS[1], (EMPTY, "no_papers"), (EMPTY, "no_papers")),
    (KINDS[2], (EMPTY, "no_papers"), (EMPTY, "no_papers")),
    (KINDS[3], (INCOMPLETE, "unexpected_redirect"), (EMPTY, "no_results")),
    (KINDS[4], (INCOMPLETE, "unexpected_redirect"), (INCOMPLETE, "no_entries")),
], ids=lambda value: value.kind if isinstance(value, Listing) else "")
def test_nothing_here_is_empty_only_in_the_way_the_kind_says_it(listing, sent_away, api_empty) -> None:
    url, latest = page(listing), f"{SITE}/papers/date/2026-08-21"
    assert judge(listing, Answer(url, location=latest)) == sent_away
    # The browser follows redirects itself: where it landed says the same.
    assert judge(listing, Answer(url, entries=12, landed=latest)) == sent_away
    assert judge(listing, Answer(url, api=True)) == api_empty
    assert judge(listing, Answer(url)) == (INCOMPLETE, "no_entries")
    assert judge(listing, Answer(url, entries=3, landed=url)) == (COMPLETE, None)


@pytest.mark.parametrize(("listing", "shown", "verdict"), [
    (KINDS[0], "2025-02-05", (COMPLETE, None)),
    (KINDS[0], "2026-08-21", (EMPTY, "no_papers")),
    (KINDS[1], "2025-W06", (COMPLETE, None)),
    (KINDS[1], "2025-02-03", (COMPLETE, None)),
    (KINDS[1], "2026-08-21", (EMPTY, "no_papers")),
    (KINDS[2], "2025-02-27", (COMPLETE, None)),
    (KINDS[2], "2026-08-21", (EMPTY, "no_papers")),
    # A search or trending page carries the latest day's date: not a period it claims to show.
    (KINDS[3], "2026-08-21", (COMPLETE, None)),
    (KINDS[4], "2026-08-21", (COMPLETE, None)),
])
def test_a_page_showing_another_period_is_that_periods_nothing_here(listing, shown, verdict) -> None:
    assert judge(listing, Answer(page(listing), entries=4, shown=shown)) == verdict


def test_the_same_listing_in_the_spellings_the_site_uses() -> None:
    day, search = KINDS[0], KINDS[3]
    assert day.shown_at(f"{SITE}/papers?date=2025-02-05") and day.shown_at(f"{SITE}/papers/date/2025-02-05/")
    assert not day.shown_at(f"{SITE}/papers/date/2025-02-06")
    assert search.shown_at(f"{SITE}/papers?q=Seeker+agents") and search.shown_at(f"{SITE}/papers?q=Seeker%20agents")
    assert not search.shown_at(f"{SITE}/papers?q=Seeker") and not search.shown_at(f"{SITE}/papers")


def test_a_papers_details_page_is_judged_by_the_same_rule() -> None:
    details = Listing("details", "2502.00001")
    url = SITE + details.page_path()
    assert url == f"{SITE}/papers/2502.00001" and details.api_path() == "/api/papers/2502.00001"
    assert judge(details, Answer(url, location=url)) == (INCOMPLETE, "redirect_loop")
    assert judge(details, Answer(url, location=url + "/")) == (FOLLOW, None)
    assert judge(details, Answer(url, location=f"{SITE}/papers/date/2026-08-21")) == \
        (INCOMPLETE, "unexpected_redirect")

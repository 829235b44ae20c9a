"""Listing arguments: days, ISO weeks, months and ranges become listing keys and URLs."""

from __future__ import annotations

import pytest

from paperset.crawler.site.listings import Listing, plan_listings


def test_plan_merges_days_and_ranges_once_each_in_order() -> None:
    listings = plan_listings(day=["2025-02-03,2025-02-01"], range="2025-02-01:2025-02-03",
                             week="2025-W06", month=["2025-02"])
    assert listings == [Listing("day", "2025-02-01"), Listing("day", "2025-02-02"),
                        Listing("day", "2025-02-03"), Listing("week", "2025-W06"),
                        Listing("month", "2025-02")]


def test_urls() -> None:
    assert Listing("day", "2025-02-03").page_path() == "/papers/date/2025-02-03"
    assert Listing("week", "2025-W06").page_path() == "/papers/week/2025-W06"
    assert Listing("month", "2025-02").api_path() == "/api/daily_papers?month=2025-02"
    assert Listing("day", "2025-02-03").api_path() == "/api/daily_papers?date=2025-02-03"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"day": "2025-02-30"}, "not a day"),
    ({"week": "2025-W54"}, "no such ISO week"),
    ({"week": "2025-6"}, "not an ISO week"),
    ({"month": "2025-13"}, "not a month"),
    ({"range": "2025-02-05:2025-02-01"}, "ends before it starts"),
    ({"range": "2025-02-05"}, "not a range"),
    ({"range": "2000-01-01:2025-01-01"}, "longer than"),
])
def test_bad_arguments_are_refused_with_the_value(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        plan_listings(**kwargs)

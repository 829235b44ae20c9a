"""Which listings a crawl asks for: parse the day/week/month/range arguments into listing keys and URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, quote, urlsplit

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# A backfill longer than this is almost certainly a typo in the range.
MAX_RANGE_DAYS = 3660
# The kinds whose key is a period of time. The site's "nothing here" for a period: the API answers `[]`, the
# page redirects to (or shows) another period (the latest day). For a search: the API answers `[]`.
# Trending has no such answer: nothing there is a fault. crawler.coverage.judge reads these.
PERIODS = ("day", "week", "month")
EMPTY_ANSWER = {"day": "no_papers", "week": "no_papers", "month": "no_papers", "search": "no_results"}


@dataclass(frozen=True, order=True)
class Listing:
    """One listing to crawl: `kind` is day, week, month, search or trending; `key` is its date, ISO
    week, month, query, or `trending`. A paper's details (`--details`) are the listing `details` keyed
    by the paper id: settled by the same rule, reported when they end incomplete."""

    kind: str
    key: str

    def page_path(self) -> str:
        """The listing's page path on the site (2025-26 URL scheme)."""
        if self.kind == "search":
            return f"/papers?q={quote(self.key)}"
        if self.kind == "trending":
            return "/papers/trending"
        if self.kind == "details":
            return f"/papers/{self.key}"
        return f"/papers/{'date' if self.kind == 'day' else self.kind}/{self.key}"

    @property
    def period(self) -> bool:
        """Whether the key is a period of time (day, week, month)."""
        return self.kind in PERIODS

    def shown_at(self, url: str) -> bool:
        """Whether `url` is this listing's page, in any spelling the site uses (a trailing slash, the 2024
        `/papers?date=`): a redirect there is the same listing, a redirect elsewhere is not."""
        parts = urlsplit(url)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        if self.kind == "search":
            return path.endswith("/papers") and query.get("q") == [self.key]
        if self.kind == "trending":
            return path.endswith("/papers/trending")
        return path.endswith(f"/{self.key}") or (self.kind == "day" and query.get("date") == [self.key])

    def covers(self, shown: str) -> bool:
        """Whether a page that says it shows the period `shown` (a day, week or month) shows this listing:
        the same key, or (a week, a month) a day inside it."""
        if shown == self.key:
            return True
        try:
            day = date.fromisoformat(shown[:10])
        except ValueError:
            return False
        if self.kind == "week":
            return f"{day.isocalendar()[0]:04d}-W{day.isocalendar()[1]:02d}" == self.key
        return self.kind == "month" and shown[:7] == self.key

    def api_path(self) -> str | None:
        """The public JSON API path that serves the same listing; None where there is none (trending)."""
        if self.kind == "search":
            return f"/api/papers/search?q={quote(self.key)}"
        if self.kind == "trending":
            return None
        if self.kind == "details":
            return f"/api/papers/{self.key}"
        param = "date" if self.kind == "day" else self.kind
        return f"/api/daily_papers?{param}={self.key}"

    def api_page_path(self, limit: int, page: int) -> str | None:
        """One page (0-based, `limit` entries) of the listing's API answer; None where there is no API."""
        path = self.api_path()
        return None if path is None else f"{path}&limit={limit}&p={page}"


def parse_day(value: str) -> date:
    """A `YYYY-MM-DD` day; ValueError with the bad value otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a day (YYYY-MM-DD): {value!r}") from None


# The last week the site's `week=` parameter accepts (its pattern is YYYY-W01..W52; W53 is a 400).
LAST_API_WEEK = 52


def parse_week(value: str) -> str:
    """A canonical ISO week `YYYY-Www`; ValueError for weeks that do not exist."""
    match = _WEEK.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO week (YYYY-Www): {value!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"no such ISO week: {value!r}") from None
    return f"{year:04d}-W{week:02d}"


def parse_month(value: str) -> str:
    """A canonical month `YYYY-MM`."""
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a month (YYYY-MM): {value!r}")
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def parse_range(value: str) -> list[date]:
    """Every day from START to END inclusive (`START:END`)."""
    start_text, sep, end_text = value.partition(":")
    if not sep:
        raise ValueError(f"not a range (START:END): {value!r}")
    start, end = parse_day(start_text), parse_day(end_text)
    if end < start:
        raise ValueError(f"range ends before it starts: {value!r}")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise ValueError(f"range of {days} days is longer than {MAX_RANGE_DAYS}: {value!r}")
    return [start + timedelta(days=i) for i in range(days)]


def _split(values: str | Iterable[str] | None) -> list[str]:
    """Spider arguments arrive as one comma-separated string (`-a day=A,B`) or as a list (CLI)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def plan_listings(
    days: str | Iterable[str] | None = None,
    weeks: str | Iterable[str] | None = None,
    months: str | Iterable[str] | None = None,
    ranges: str | Iterable[str] | None = None,
    searches: str | Iterable[str] | None = None,
    trending: bool = False,
) -> list[Listing]:
    """The listings to crawl, each once, in a stable order (days, weeks, months, searches, trending).

    Search queries are taken whole (a query may hold commas when given as a list).
    """
    day_set = {parse_day(d) for d in _split(days)}
    for value in _split(ranges):
        day_set.update(parse_range(value))
    week_set = {parse_week(w) for w in _split(weeks)}
    for week in [w for w in week_set if w.endswith(f"-W{LAST_API_WEEK + 1}")]:
        # The site's week pattern stops at W52: an ISO week 53 is asked for as its seven days.
        week_set.discard(week)
        day_set.update(date.fromisocalendar(int(week[:4]), 53, d) for d in range(1, 8))
    listings = [Listing("day", d.isoformat()) for d in sorted(day_set)]
    listings += [Listing("week", w) for w in sorted(week_set)]
    listings += [Listing("month", m) for m in sorted({parse_month(m) for m in _split(months)})]
    queries = [searches] if isinstance(searches, str) else list(searches or [])
    listings += [Listing("search", q) for q in dict.fromkeys(q.strip() for q in queries if q.strip())]
    if trending:
        listings.append(Listing("trending", "trending"))
    return listings

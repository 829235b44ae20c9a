"""The one registry of listing kinds and the flags that ask for them.

Everything that knows a kind reads it here: the command line (`paperset/cli/args.py` makes a flag per
FLAGS row), the spider's arguments and its "nothing to crawl" message, `CrawlJob`, the run plan's
expected sizes (`paperset/app/plan.py`), what an empty answer means (`paperset/crawler/tracking/coverage.py`), the
replica's router, the fixture cases' URL reader (API parameter and page path -> kind) and, through the
application, the packager's population rule (`daily_kinds`). A new kind is a row in KINDS
and one in FLAGS (docs/architecture.md, "Where to add"). Imports no Scrapy: `--help` reads it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# A backfill longer than this is almost certainly a typo in the range.
MAX_RANGE_DAYS = 3660
# The public JSON API path that lists daily papers; a kind served there is told by its query parameter.
DAILY_API = "/api/daily_papers"


@dataclass(frozen=True)
class Kind:
    """One listing kind. `pages`: its page path templates (`{key}` is the quoted key), the first the one
    crawled, the others older spellings the site redirects to or still shows (`shown_at` accepts them);
    `api`: the JSON API path template, None where there is none; `expected`: entries it has on the live
    site (site notes; the plan's estimate); `empty`: the coverage status of an empty answer (`[]` from the
    API, a redirect elsewhere from the page), None where empty is a fault; `period`: the key is a period
    of time (a page showing a day inside it shows it); `sort`: keys crawled in sorted order (else as given);
    `daily`: a listing of Daily Papers itself, so a paper seen on it is one of Daily Papers' papers (the
    snapshot's `population`: the application hands `daily_kinds()` to the packager, which imports no crawler)."""

    name: str
    pages: tuple[str, ...]
    api: str | None
    expected: int
    empty: str | None = None
    period: bool = False
    sort: bool = True
    daily: bool = False

    @property
    def api_param(self) -> str | None:
        """The query parameter of DAILY_API that asks for this kind, or None (another path, or no API)."""
        if self.api is None or urlsplit(self.api).path != DAILY_API:
            return None
        return next(iter(parse_qs(urlsplit(self.api).query)))


# In crawl order. `details` is a paper's own page, asked for by `--details` (not a flag of FLAGS).
KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("day", ("/papers/date/{key}", "/papers?date={key}"), f"{DAILY_API}?date={{key}}", 30,
         empty="no_papers", period=True, daily=True),
    Kind("week", ("/papers/week/{key}",), f"{DAILY_API}?week={{key}}", 105, empty="no_papers", period=True,
         daily=True),
    Kind("month", ("/papers/month/{key}",), f"{DAILY_API}?month={{key}}", 105, empty="no_papers", period=True,
         daily=True),
    Kind("search", ("/papers?q={key}",), "/api/papers/search?q={key}", 50, empty="no_results", sort=False),
    Kind("trending", ("/papers/trending",), None, 50, daily=True),
    Kind("details", ("/papers/{key}",), "/api/papers/{key}", 1, sort=False),
)}


def parse_day(value: str) -> date:
    """A `YYYY-MM-DD` day; ValueError with the bad value otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a day (YYYY-MM-DD): {value!r}") from None


# The last week the site's `week=` parameter accepts (its pattern is YYYY-W01..W52; W53 is a 400): an ISO
# week 53 is crawled as its seven days (paperset/crawler/site/listings.py).
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


@dataclass(frozen=True)
class Flag:
    """One way to ask for listings: `--name` on the command line, `-a name=` for the spider, the key
    `name` of a CrawlJob's `asked`. `parse` turns one value into the kind's keys (ValueError names a bad
    one); `metavar` None makes a switch (its one key is the kind's name); `whole`: a value given in a list
    is taken whole (a search may hold commas), else each value is comma-separated."""

    name: str
    kind: str
    help: str
    parse: Callable[[str], list[str]]
    metavar: str | None = None
    whole: bool = False


FLAGS: list[Flag] = [
    Flag("day", "day", "a daily listing (repeatable)", lambda v: [parse_day(v).isoformat()], "YYYY-MM-DD"),
    Flag("week", "week", "a weekly listing, ISO week (repeatable)", lambda v: [parse_week(v)], "YYYY-Www"),
    Flag("month", "month", "a monthly listing (repeatable)", lambda v: [parse_month(v)], "YYYY-MM"),
    Flag("range", "day", "every day from START to END inclusive, for backfills (repeatable)",
         lambda v: [d.isoformat() for d in parse_range(v)], "START:END"),
    Flag("search", "search", "a search listing, /papers?q=Q (repeatable)",
         lambda v: [v.strip()] if v.strip() else [], "Q", whole=True),
    Flag("trending", "trending", "the trending listing", lambda v: ["trending"]),
]


def daily_kinds() -> tuple[str, ...]:
    """The kinds whose papers are Daily Papers' papers (`Kind.daily`), in registry order: what the packager's
    population rule and the card's sentence of it are given (paperset/app/run.py, paperset/cli/dataset.py)."""
    return tuple(k.name for k in KINDS.values() if k.daily)


def daily_api_kinds() -> dict[str, str]:
    """DAILY_API's query parameter -> kind (`date` -> day): the replica's router and the fixture cases."""
    return {k.api_param: k.name for k in KINDS.values() if k.api_param}


def page_segments() -> dict[str, str]:
    """The middle segment of a `/papers/<segment>/{key}` page path -> kind (`date` -> day)."""
    out = {}
    for kind in KINDS.values():
        parts = kind.pages[0].split("/")
        if len(parts) == 4 and parts[1] == "papers" and parts[3] == "{key}":
            out[parts[2]] = kind.name
    return out


def page_query_kinds() -> dict[str, str]:
    """The query parameter of a `/papers?<param>={key}` page (any spelling) -> kind (`q` -> search)."""
    out = {}
    for kind in KINDS.values():
        for page in kind.pages:
            path, _, query = page.partition("?")
            if path == "/papers" and query.endswith("={key}"):
                out[query.split("=")[0]] = kind.name
    return out


def switch_on(value: object) -> bool:
    """A switch given as a spider argument or a CLI flag: True, or the text true/1/yes/on."""
    return value is True or (isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"})


def nothing_to_crawl(prefix: str = "--") -> str:
    """The message for a crawl asked for no listing, naming every flag (`--day`, or `day` for the spider)."""
    # `--all-papers` (the site's list of every paper, paperset/crawler/spiders/all_papers.py) is a listing of its own.
    names = [prefix + f.name for f in FLAGS] + [prefix + ("all-papers" if prefix else "all_papers")]
    return f"nothing to crawl: give {', '.join(names[:-1])} or {names[-1]}"

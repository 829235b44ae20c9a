"""Which listings a crawl asks for: the listing flags (paperset/crawler/site/kinds.py FLAGS) parsed into listings, each
with its page and API URLs from its kind's row (paperset/crawler/site/kinds.py KINDS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from paperset.crawler.site.kinds import (
    FLAGS,
    KINDS,
    LAST_API_WEEK,
    MAX_RANGE_DAYS,
    Flag,
    parse_day,
    parse_month,
    parse_range,
    parse_week,
    switch_on,
)

# Each kind's paths, whether it is a period and what its empty answer means are rows of paperset/crawler/site/kinds.py.
__all__ = ["MAX_RANGE_DAYS", "Listing", "asked_from", "parse_day", "parse_month", "parse_range", "parse_week",
           "plan_listings"]


@dataclass(frozen=True, order=True)
class Listing:
    """One listing to crawl: `kind` is day, week, month, search or trending; `key` is its date, ISO
    week, month, query, or `trending`. A paper's details (`--details`) are the listing `details` keyed
    by the paper id: settled by the same rule, reported when they end incomplete."""

    kind: str
    key: str

    def page_path(self) -> str:
        """The listing's page path on the site (2025-26 URL scheme)."""
        return KINDS[self.kind].pages[0].format(key=quote(self.key))

    @property
    def period(self) -> bool:
        """Whether the key is a period of time (day, week, month)."""
        return KINDS[self.kind].period

    def shown_at(self, url: str) -> bool:
        """Whether `url` is this listing's page, in any spelling the site uses (a trailing slash, the 2024
        `/papers?date=`): a redirect there is the same listing, a redirect elsewhere is not."""
        parts = urlsplit(url)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        for page in KINDS[self.kind].pages:
            want_path, _, want_query = page.partition("?")
            if not path.endswith(f"/{self.key}" if "{key}" in want_path else want_path):
                continue
            if all(query.get(name) == [v.format(key=self.key) for v in values]
                   for name, values in parse_qs(want_query).items()):
                return True
        return False

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
        api = KINDS[self.kind].api
        return None if api is None else api.format(key=quote(self.key))

    def api_page_path(self, limit: int, page: int) -> str | None:
        """One page (0-based, `limit` entries) of the listing's API answer; None where there is no API."""
        path = self.api_path()
        return None if path is None else f"{path}&limit={limit}&p={page}"


def _values(flag: Flag, value: Any) -> list[str]:
    """A flag's values: spider arguments arrive as one comma-separated string (`-a day=A,B`), the CLI's as a
    list (a `whole` flag's list items taken whole); a switch is on (True, or "true"/"1"/"yes"/"on") or off."""
    if flag.metavar is None:
        return [flag.kind] if switch_on(value) else []
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    elif not flag.whole:
        value = [part for item in value for part in item.split(",")]
    return [v.strip() for v in value if v.strip()]


def plan_listings(asked: Mapping[str, Any] | None = None, /, **flags: Any) -> list[Listing]:
    """The listings asked for by flag name (paperset/crawler/site/kinds.py FLAGS: `day=`, `range=`, `search=`,
    `trending=`), each once, in a stable order: kinds in KINDS order, a sorted kind's keys sorted,
    others (searches) as given. ValueError names an unknown flag or a bad value."""
    given = {**(asked or {}), **flags}
    unknown = sorted(set(given) - {f.name for f in FLAGS})
    if unknown:
        raise ValueError(f"unknown listing flag(s) {', '.join(unknown)}: one of {', '.join(f.name for f in FLAGS)}")
    keys: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for flag in FLAGS:
        for value in _values(flag, given.get(flag.name)):
            keys[flag.kind].extend(flag.parse(value))
    for week in {w for w in keys["week"] if w.endswith(f"-W{LAST_API_WEEK + 1}")}:
        # The site's week pattern stops at W52: an ISO week 53 is asked for as its seven days.
        keys["week"] = [w for w in keys["week"] if w != week]
        keys["day"] += [date.fromisocalendar(int(week[:4]), 53, d).isoformat() for d in range(1, 8)]
    listings: list[Listing] = []
    for kind, found in keys.items():
        ordered = sorted(set(found)) if KINDS[kind].sort else list(dict.fromkeys(found))
        listings += [Listing(kind, key) for key in ordered]
    return listings


def asked_from(namespace: Any) -> dict[str, Any]:
    """The listing flags' values of a parsed command line (or any object with them as attributes)."""
    return {f.name: getattr(namespace, f.name) for f in FLAGS if getattr(namespace, f.name, None)}

"""The replica's content: which papers each listing has, and its pages and API answers rendered from them."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from paperset.crawler.replica.build import DATA_DIR, iso_week
from paperset.crawler.replica.seeds import load_seeds

PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX = 50, 100
TRENDING_DAYS, TRENDING_SIZE = 5, 60


def public_item(row: dict[str, Any]) -> dict[str, Any]:
    """A corpus line as the site serves it: without the keys added when the corpus was packed."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


class ReplicaSite:
    """The replica's listings (day, week, month) built from the committed corpus, and their rendering.

    Day pages before `generation_switch` use the 2024 `DailyPapers` props, later ones and all week
    and month pages the 2025-26 props. Weeks and months list their days' papers by upvotes.
    """

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.index: dict[str, Any] = json.loads((data_dir / "index.json").read_text(encoding="utf-8"))
        with gzip.open(data_dir / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
            self.rows = [json.loads(line) for line in lines]
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        days = set(self.index["days"])
        for row in self.rows:
            if row["_file_date"] in days:
                by_day[row["_file_date"]].append(row)
        self.listings: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for day, rows in by_day.items():
            self.listings["day", day] = sorted(rows, key=lambda r: r["_rank"])
        for week in self.index["weeks"]:
            self.listings["week", week] = self._by_upvotes(d for d in by_day if iso_week(date.fromisoformat(d)) == week)
        for month in self.index["months"]:
            self.listings["month", month] = self._by_upvotes(d for d in by_day if d.startswith(month))
        self._by_day = by_day
        self.seeds = load_seeds(data_dir / "seeds" if (data_dir / "seeds").is_dir() else DATA_DIR / "seeds")
        self.papers = {row["paper"]["id"]: row for row in self.rows}
        recent = self.index["days"][-TRENDING_DAYS:]
        self.listings["trending", "trending"] = self._by_upvotes(recent)[:TRENDING_SIZE]

    def _by_upvotes(self, days: Any) -> list[dict[str, Any]]:
        rows = [row for day in sorted(days) for row in self._by_day_rows(day)]
        return sorted(rows, key=lambda r: (-r["paper"]["upvotes"], r["_file_date"], r["_rank"]))

    def _by_day_rows(self, day: str) -> list[dict[str, Any]]:
        return sorted((r for r in self.rows if r["_file_date"] == day), key=lambda r: r["_rank"])

    @property
    def latest_day(self) -> str:
        return str(self.index["latest_day"])

    def items(self, kind: str, key: str) -> list[dict[str, Any]] | None:
        """The listing's items as the API serves them, or None when the site has no such listing."""
        rows = self.listings.get((kind, key))
        return None if rows is None else [public_item(r) for r in rows]

    def props(self, kind: str, key: str) -> dict[str, Any]:
        """The `DailyPapers` hydration props of a listing page, in the generation the page is served in."""
        items = self.items(kind, key) or []
        if kind == "day" and key < self.index["generation_switch"]:
            day = date.fromisoformat(key)
            return {"canSubmit": False, "date": f"{key}T00:00:00.000Z", "dailyPapers": items,
                    "nextDate": (day + timedelta(days=1)).isoformat(),
                    "prevDate": (day - timedelta(days=1)).isoformat(), "publisher": None}
        return {"authLight": {"isLoggedIn": False}, "canSubmit": False, "dateString": key,
                "dailyPapers": items, "prevDate": None, "publisher": None, "periodType": kind,
                "query": {}, "isTrending": False}

    def search(self, query: str) -> list[dict[str, Any]]:
        """Search results: a seed page's (title, abstract) cards for the seed queries, otherwise the
        corpus papers whose title or abstract holds the query, by upvotes."""
        if query in self.seeds:
            return [{"title": title, "paper": {"title": title, "summary": abstract}}
                    for title, abstract in self.seeds[query]]
        needle = query.casefold()
        rows = [r for r in self.rows
                if needle in r["paper"]["title"].casefold() or needle in r["paper"]["summary"].casefold()]
        rows.sort(key=lambda r: (-r["paper"]["upvotes"], r["paper"]["id"]))
        seen: set[str] = set()
        unique = [r for r in rows if not (r["paper"]["id"] in seen or seen.add(r["paper"]["id"]))]
        return [{"title": r["paper"]["title"], "paper": r["paper"], "numComments": r["numComments"]}
                for r in unique]

    def search_props(self, query: str) -> dict[str, Any]:
        """Props of a server-rendered search page (2025-26 generation, results in `searchResults`)."""
        return {"authLight": {"isLoggedIn": False}, "canSubmit": False, "dateString": self.latest_day,
                "dailyPapers": [], "prevDate": None, "publisher": None, "periodType": "day",
                "query": {"q": query}, "searchResults": self.search(query), "isTrending": False}

    def trending_props(self) -> dict[str, Any]:
        props = self.props("day", self.latest_day)
        props.update({"dailyPapers": self.items("trending", "trending"), "isTrending": True})
        return props


def paginate(items: list[dict[str, Any]], limit: int | None, page: int) -> list[dict[str, Any]]:
    """One page of an API list (`limit` capped like the real API, `p` 0-based)."""
    size = min(max(limit or PAGE_LIMIT_DEFAULT, 1), PAGE_LIMIT_MAX)
    return items[page * size:(page + 1) * size]

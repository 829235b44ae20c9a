"""The replica's content: which papers each listing has, and its pages and API answers rendered from them."""

from __future__ import annotations

import gzip
import html
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crawler.replica.build import DATA_DIR, iso_week

PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX = 50, 100


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
        for row in self.rows:
            by_day[row["_file_date"]].append(row)
        self.listings: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for day, rows in by_day.items():
            self.listings["day", day] = sorted(rows, key=lambda r: r["_rank"])
        for week in self.index["weeks"]:
            self.listings["week", week] = self._by_upvotes(d for d in by_day if iso_week(date.fromisoformat(d)) == week)
        for month in self.index["months"]:
            self.listings["month", month] = self._by_upvotes(d for d in by_day if d.startswith(month))
        self._by_day = by_day

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

    def api_page(self, kind: str, key: str, limit: int | None, page: int) -> list[dict[str, Any]]:
        """One page of `/api/daily_papers` (`limit` capped like the real API, `p` 0-based)."""
        items = self.items(kind, key) or []
        size = min(max(limit or PAGE_LIMIT_DEFAULT, 1), PAGE_LIMIT_MAX)
        return items[page * size:(page + 1) * size]

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

    def render_listing(self, kind: str, key: str) -> str:
        """A listing page: header hydrater, the `DailyPapers` hydrater with its props, and the cards."""
        props = html.escape(json.dumps(self.props(kind, key), ensure_ascii=False), quote=True)
        header = html.escape(json.dumps({"classNames": "", "isWide": False, "currentUser": None}), quote=True)
        cards = "\n".join(render_card(item) for item in self.items(kind, key) or [])
        stamp = f"{key}T00:00:00.000Z" if kind == "day" else key
        return (
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Daily Papers - Hugging Face</title>"
            "</head><body>\n"
            f'<div class="SVELTE_HYDRATER contents" data-target="MainHeader" data-props="{header}"></div>\n'
            f'<main><div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{props}">\n'
            f'<h1>Daily Papers</h1><time class="relative flex flex-col" datetime="{stamp}">{key}</time>\n'
            f'<section class="grid grid-cols-1 gap-14">\n{cards}\n</section></div></main>\n</body></html>\n'
        )


def render_card(item: dict[str, Any]) -> str:
    """A paper card, in the markup of the real site's day listings (no abstract on day cards)."""
    paper = item["paper"]
    pid = html.escape(paper["id"], quote=True)
    title = html.escape(" ".join(str(item.get("title") or paper.get("title") or "").split()))
    thumb = html.escape(item.get("thumbnail") or "", quote=True)
    return (
        f'<article class="relative flex flex-col overflow-hidden rounded-xl border">'
        f'<a href="/papers/{pid}" class="peer relative block h-56 w-full"><img src="{thumb}" alt=""></a>'
        f'<div class="pointer-events-none absolute right-2 top-56 flex h-6 items-center gap-1 leading-none">'
        f'Submitted by {html.escape(str((item.get("submittedBy") or {}).get("user", "")))}</div>'
        f'<div class="flex w-full gap-6"><a href="/login?next=%2Fpapers%2F{pid}" class="self-start">'
        f'<div class="shadow-alternate flex h-14 w-12 flex-col"><div class="leading-none">'
        f'{int(paper.get("upvotes") or 0)}</div></div></a>'
        f'<div class="w-full"><h3 class="mb-1 text-lg/6 font-semibold"><a href="/papers/{pid}" '
        f'class="line-clamp-3 cursor-pointer text-balance">{title}</a></h3>'
        f'<div class="flex items-center justify-between"><a href="/papers/{pid}#community" '
        f'class="text-md flex items-center gap-2 text-gray-400">{int(item.get("numComments") or 0)}</a></div>'
        f"</div></div></article>"
    )

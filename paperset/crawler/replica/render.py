"""The replica's HTML: listing pages with hydration props and cards, dynamic pages, paper pages."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

# Upvoters a paper page lists (paperset/crawler/site/paper_extras.py reads them).
UPVOTERS_SHOWN = 12

_SCRIPT = (Path(__file__).resolve().parent / "dynamic.js").read_text(encoding="utf-8")


def _attr(value: Any) -> str:
    return html.escape(json.dumps(value), quote=True)


def _page(title: str, body: str) -> str:
    header = _attr({"classNames": "", "isWide": False, "currentUser": None})
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head><body>\n'
        f'<div class="SVELTE_HYDRATER contents" data-target="MainHeader" data-props="{header}"></div>\n'
        f"<main>{body}</main>\n</body></html>\n"
    )


def render_listing(props: dict[str, Any], items: list[dict[str, Any]], *, stamp: str, search: bool = False) -> str:
    """A server-rendered listing: the `DailyPapers` hydrater with its props, then the same papers as cards."""
    cards = "\n".join(render_card(item, with_abstract=search) for item in items)
    return _page("Daily Papers - Hugging Face", (
        f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{_attr(props)}">\n'
        f'<h1>Daily Papers</h1><time class="relative flex flex-col" datetime="{html.escape(stamp)}">'
        f"{html.escape(stamp[:10])}</time>\n"
        f'<section class="grid grid-cols-1 gap-14">\n{cards}\n</section></div>'
    ))


def render_dynamic(*, source: str, query: str, page_size: int) -> str:
    """A page whose HTML has no results: its script fetches them from `source` and renders cards; more
    appear on scrolling (twice) and then only on a "Load more" click, until the list ends."""
    config = _attr({"source": source, "q": query, "pageSize": page_size})
    return _page("Daily Papers - Hugging Face", (
        f'<h1>Daily Papers</h1><section id="results" class="grid grid-cols-1 gap-14" data-config="{config}">'
        '</section><button id="load-more" type="button" hidden>Load more</button>'
        f"<script>{_SCRIPT}</script>"
    ))


def render_card(item: dict[str, Any], *, with_abstract: bool = False) -> str:
    """A paper card in the real site's markup; search cards carry the abstract as a link's text."""
    paper = item.get("paper") or {}
    pid = html.escape(paper.get("id") or "", quote=True)
    href = f"/papers/{pid}" if pid else "#"
    title = html.escape(" ".join(str(item.get("title") or paper.get("title") or "").split()))
    upvotes = paper.get("upvotes")
    abstract = ""
    if with_abstract:
        text = html.escape(" ".join(str(paper.get("summary") or "").split()))
        abstract = f'<a href="{href}" class="line-clamp-2 text-sm text-gray-500">{text}</a>'
    return (
        f'<article class="relative flex flex-col overflow-hidden rounded-xl border">'
        f'<div class="flex w-full gap-6"><a href="/login?next=%2Fpapers%2F{pid}" class="self-start">'
        f'<div class="shadow-alternate flex h-14 w-12 flex-col"><div class="leading-none">'
        f'{"-" if upvotes is None else int(upvotes)}</div></div></a>'
        f'<div class="w-full"><h3 class="mb-1 text-lg/6 font-semibold"><a href="{href}" '
        f'class="line-clamp-3 cursor-pointer text-balance">{title}</a></h3>{abstract}'
        f'<div class="flex items-center justify-between"><a href="{href}#community" '
        f'class="text-md flex items-center gap-2 text-gray-400">{int(item.get("numComments") or 0)}</a></div>'
        f"</div></div></article>"
    )


def render_paper(paper: dict[str, Any], num_comments: int, rank: int | None) -> str:
    """A `/papers/ID` page: `PaperContent` props (comments as bare stubs: the corpus has only their count)."""
    # The page lists some upvoters (a preview: the live page shows about a dozen of a paper's upvotes).
    upvoters = [{"_id": f"u{i}", "user": f"upvoter-{i}", "type": "user"}
                for i in range(min(int(paper.get("upvotes") or 0), UPVOTERS_SHOWN))]
    props = {"paper": paper, "comments": [{"id": f"c{i}"} for i in range(num_comments)],
             "dailyPaperRank": rank, "canSubmit": False, "upvoters": upvoters}
    upvote = {"upvotes": paper.get("upvotes"), "upvoted": False}
    return _page(f"Paper page - {paper.get('title', '')}", (
        f'<div class="SVELTE_HYDRATER contents" data-target="PaperContent" data-props="{_attr(props)}">'
        f"<h1>{html.escape(' '.join(str(paper.get('title', '')).split()))}</h1>"
        f'<div class="SVELTE_HYDRATER contents" data-target="UpvoteControl" data-props="{_attr(upvote)}"></div>'
        f"<p>{html.escape(str(paper.get('summary', '')))}</p></div>"
    ))

"""Hugging Face Papers extraction: hydration JSON (both generations), cards as fallback, paper pages."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from parsel import Selector

from paperset.crawler.clean.values import BadValue, to_count
from paperset.crawler.site.items import PaperEntry
from paperset.crawler.site.json_text import read_json, read_json_strict
from paperset.crawler.site.paper_extras import page_extras
from paperset.crawler.site.source import org_name, read_item
from paperset.spool.fields import SOURCED

# Path segments under /papers/ that are listings, not paper ids.
_NOT_PAPER_IDS = frozenset({"date", "week", "month", "trending", "submit"})
_PAPER_LINK = re.compile(r"/papers/([^/?#\s]+)/?(?:[?#].*)?$")
# The upvote box holds a count, or "-" for papers never on Daily Papers.
_UPVOTE_BOX = re.compile(r"^\s*(?:\d[\d.,]*|-)\s*$")
# A card text block at least this long (characters) is taken for an abstract; shorter ones are
# labels, counts, dates and names.
_MIN_ABSTRACT_CHARS = 80


# The columns a card (the page without its hydration JSON) can carry; every other sourced column is null
# on that path and counted (`paperset/not_on_path/cards/<column>`), never invented.
ON_CARDS = ("paper_id", "title", "abstract", "upvotes", "num_comments")
NOT_ON_CARDS = tuple(f.name for f in SOURCED if f.name not in ON_CARDS)


@dataclass
class ListingPage:
    """What one listing page gave: its entries, how they were read, and what went wrong.

    `source` is `hydration` or `cards`; `problems` are stat reasons (`no_hydration`, `bad_json`,
    `unknown_shape`, `no_entries`); `page_key` is the date, week or month the page says it shows
    (None when it does not say), which tells a redirect to another day apart from the asked one.
    """

    entries: list[PaperEntry] = field(default_factory=list)
    source: str = "hydration"
    problems: list[str] = field(default_factory=list)
    page_key: str | None = None


def _card_count(text: str | None) -> Any:
    """A card's count text as a number when it is one (`1,234`), else the text itself, for the normalizer
    to count as a bad value (paperset.crawler.clean.values); no text is None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return to_count(text)
    except BadValue:
        return text


def entry_from_api_item(
    item: dict[str, Any], *, kind: str, key: str, rank: int | None, source_url: str,
    unmapped: Counter[str] | None = None, strict: bool = False,
) -> PaperEntry:
    """One `dailyPapers` / `searchResults` / API element (`{paper: {...}, title, ...}`) as an entry: every
    sourced column of the field table (paperset/spool/fields.py), read by paperset/crawler/site/source.py.

    The `paper` object wins over the wrapper for fields both carry; a bare paper object (the
    paper-page and `/api/papers/ID` shape) works too. `unmapped` counts the keys no column maps. `strict`:
    the item was read by orjson (json_text.read_json_strict), so its JSON is the entry's `source_json`.
    """
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    source = orjson.dumps(item) if strict else None
    entry = PaperEntry(**read_item(paper, item, unmapped, source), listing_kind=kind, listing_key=key, rank=rank,
                       source_url=source_url)
    if source is not None:
        entry.source_json = source
    return entry


class ExtractionError(ValueError):
    """A page or an API answer that could not be read; `reason` names why (a stats key part)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HydrationError(ExtractionError):
    """A page's hydration element is missing (`no_hydration`), its JSON is broken (`bad_json`), or its
    props are not the shape we know (`unknown_shape`)."""


class ApiAnswerError(ExtractionError):
    """An API answer is not JSON (`bad_json`) or not the list or paper we know (`unknown_shape`)."""


def hydration_props(selector: Selector, target: str) -> dict[str, Any]:
    """The props of the `SVELTE_HYDRATER` element for `target`, parsed from its attribute.

    Reading the attribute through the HTML parser handles both quotings the site has served
    (double-quoted and entity-escaped, single-quoted and raw).
    """
    return _hydration(selector, target)[0]


def _hydration(selector: Selector, target: str) -> tuple[dict[str, Any], bool]:
    """`hydration_props`, and whether orjson read them (read_json_strict)."""
    raw = selector.css(f'[data-target="{target}"]::attr(data-props)').get()
    if raw is None:
        raise HydrationError("no_hydration")
    try:
        props, strict = read_json_strict(raw)
    except json.JSONDecodeError:
        raise HydrationError("bad_json") from None
    if not isinstance(props, dict):
        raise HydrationError("unknown_shape")
    return props, strict


def _props_key(props: dict[str, Any]) -> str | None:
    """The date/week/month a listing's props say they show: `dateString` (2025-26) or `date` (2024)."""
    if isinstance(props.get("dateString"), str):
        return props["dateString"]
    if isinstance(props.get("date"), str):
        return props["date"][:10]
    return None


def _items_from_props(props: dict[str, Any]) -> list[Any] | None:
    for name in ("searchResults", "dailyPapers"):
        value = props.get(name)
        if isinstance(value, list) and (value or name == "dailyPapers"):
            return value
    return None


def parse_listing(html: str | Selector, *, url: str, kind: str, key: str,
                  unmapped: Counter[str] | None = None) -> ListingPage:
    """Entries of a listing page (day, week, month, trending or search), in page order."""
    selector = html if isinstance(html, Selector) else Selector(text=html)
    page = ListingPage()
    try:
        props, strict = _hydration(selector, "DailyPapers")
        items = _items_from_props(props)
        if items is None or not all(isinstance(i, dict) for i in items):
            raise HydrationError("unknown_shape")
    except HydrationError as exc:
        page.problems.append(exc.reason)
        page.source = "cards"
        page.entries = parse_cards(selector, url=url, kind=kind, key=key)
        page.page_key = _time_key(selector)
    else:
        page.page_key = _props_key(props)
        page.entries = [
            entry_from_api_item(item, kind=kind, key=key, rank=rank, source_url=url, unmapped=unmapped,
                                strict=strict)
            for rank, item in enumerate(items)
        ]
    if not page.entries:
        page.problems.append("no_entries")
    return page


def _time_key(selector: Selector) -> str | None:
    value = selector.css("time::attr(datetime)").get()
    return value[:10] if value else None


def paper_id_from_href(href: str | None) -> str | None:
    """The paper id of a `/papers/ID` link (relative or absolute), None for listing links."""
    if not href:
        return None
    match = _PAPER_LINK.search(href)
    if not match or match.group(1) in _NOT_PAPER_IDS:
        return None
    return match.group(1)


def _text(node: Selector) -> str:
    return " ".join(" ".join(node.css("::text").getall()).split())


def parse_cards(selector: Selector, *, url: str, kind: str, key: str) -> list[PaperEntry]:
    """Entries from the `<article>` cards: title from `h3`, id from a `/papers/ID` link, counts, abstract.

    The abstract is the card's longest text block other than the title, when one is long enough to
    be one (search cards have it, day cards do not).
    """
    entries = []
    for article in selector.css("article"):
        title = _text(article.css("h3")[0]) if article.css("h3") else ""
        if not title:
            continue
        paper_id = None
        for href in article.css("h3 a::attr(href), a::attr(href)").getall():
            paper_id = paper_id_from_href(href)
            if paper_id:
                break
        # Text blocks outside the title: neither the h3, nor inside it, nor around it.
        nodes = article.xpath(".//*[not(self::h3) and not(ancestor::h3) and not(.//h3)]")
        blocks = [b for b in (_text(node) for node in nodes) if b != title]
        longest = max(blocks, key=len, default="")
        upvote_text = next((t for t in article.css("div.leading-none::text").getall() if _UPVOTE_BOX.match(t)), None)
        comments_text = " ".join(article.css('a[href$="#community"] ::text').getall())
        entries.append(
            PaperEntry(
                paper_id=paper_id,
                title=title,
                abstract=longest if len(longest) >= _MIN_ABSTRACT_CHARS else None,
                upvotes=_card_count(None if upvote_text is None or upvote_text.strip() == "-" else upvote_text),
                num_comments=_card_count(comments_text),
                listing_kind=kind,
                listing_key=key,
                rank=len(entries),
                source_url=url,
            )
        )
    return entries


def parse_paper_page(html: str | Selector, *, url: str, unmapped: Counter[str] | None = None) -> PaperEntry:
    """The paper of a `/papers/ID` page, from its `PaperContent` props.

    Raises HydrationError when the page has no readable props. `num_comments` is the number of
    comment threads the page embeds.
    """
    selector = html if isinstance(html, Selector) else Selector(text=html)
    props = hydration_props(selector, "PaperContent")
    paper = props.get("paper")
    if not isinstance(paper, dict) or not paper.get("id"):
        raise HydrationError("unknown_shape")
    entry = entry_from_api_item(paper, kind="paper", key=paper["id"], rank=None, source_url=url,
                                unmapped=unmapped)
    comments = props.get("comments")
    entry.num_comments = len(comments) if isinstance(comments, list) else None
    entry.upvoters, entry.daily_paper_rank = page_extras(props)
    entry.organization = entry.organization or org_name(props.get("submitterOrganization"))
    return entry


def parse_api_listing(text: str, *, url: str, kind: str, key: str, offset: int = 0,
                      unmapped: Counter[str] | None = None) -> list[PaperEntry]:
    """Entries of one `/api/daily_papers` or `/api/papers/search` answer (a JSON list of items).

    Raises ApiAnswerError (`bad_json`, `unknown_shape`) when the answer is not such a list.
    """
    try:
        items, strict = read_json_strict(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiAnswerError("bad_json") from None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("paper", i), dict) and (i.get("title") or i.get("paper"))
        for i in items
    ):
        raise ApiAnswerError("unknown_shape")
    return [entry_from_api_item(item, kind=kind, key=key, rank=offset + i, source_url=url, unmapped=unmapped,
                                strict=strict)
            for i, item in enumerate(items)]


def parse_api_paper(text: str, *, url: str, unmapped: Counter[str] | None = None) -> PaperEntry:
    """The paper of an `/api/papers/ID` answer (a bare paper object)."""
    try:
        paper = read_json(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiAnswerError("bad_json") from None
    if not isinstance(paper, dict) or not paper.get("id"):
        raise ApiAnswerError("unknown_shape")
    return entry_from_api_item(paper, kind="paper", key=paper["id"], rank=None, source_url=url, unmapped=unmapped)

"""Normalize step: every entry's text, ids, URLs, dates and lists in canonical form (see
paperset.crawler.clean.normalize)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import pyarrow as pa
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from paperset.crawler.clean.memo import json_memo
from paperset.crawler.clean.normalize import (
    canonical_arxiv_id,
    canonical_timestamp,
    canonical_url,
    clean_text,
    has_unwanted_characters,
    left_as_is,
)
from paperset.crawler.clean.rejects import Rejected
from paperset.crawler.clean.values import REQUIRED, BadValue, to_count, to_text, to_text_list
from paperset.crawler.site.items import PaperEntry
from paperset.spool.fields import BY_NAME, of_kind

# The fields of each normalization, from the field table (paperset/spool/fields.py).
TEXT_FIELDS = of_kind("text", "org_name")
LIST_FIELDS = of_kind("names", "text_list")
URL_FIELDS = of_kind("url")
DATE_FIELDS = (*of_kind("date"), "crawled_at")
COUNT_FIELDS = of_kind("count")
BOOL_FIELDS = of_kind("bool")
NESTED_FIELDS = tuple((name, BY_NAME[name].type) for name in of_kind("nested"))
# Each field the normalizer handles, with the conversion its raw value must pass (paperset.crawler.clean.values): the
# exact type passes untouched (most values), anything else converts only when nothing is lost.
CONVERSIONS = (*((name, str, to_text) for name in ("paper_id", *TEXT_FIELDS)),
               *((name, list, to_text_list) for name in LIST_FIELDS),
               *((name, int, to_count) for name in COUNT_FIELDS))
# Known papers are seen again and again (days, weeks, months, searches): the same raw text is cleaned
# once. Bounded: at most ~20 MB of abstracts held.
CACHE_SIZE = 1 << 13


@lru_cache(maxsize=CACHE_SIZE)
def _text(value: str) -> tuple[str | None, bool]:
    """clean_text of a string, and whether it held characters cleaning removes."""
    return clean_text(value), has_unwanted_characters(value)


@lru_cache(maxsize=CACHE_SIZE)
def _url(value: str) -> str | None:
    return canonical_url(value)


@lru_cache(maxsize=CACHE_SIZE)
def _timestamp(value: str) -> str | None:
    return canonical_timestamp(value)


@lru_cache(maxsize=CACHE_SIZE)
def _arxiv_id(value: str) -> tuple[str, int | None] | None:
    return canonical_arxiv_id(value)


@lru_cache(maxsize=CACHE_SIZE)
def _text_list(values: tuple[str, ...]) -> tuple[tuple[str, ...] | None, bool]:
    """A list of strings cleaned as a whole (a known paper's authors come again and again)."""
    if left_as_is(values):  # most lists of names: one test instead of cleaning each name
        return values, False
    kept, unwanted = _clean_each(values)
    return (tuple(kept) if kept else None), unwanted


def _clean_list(values: Any) -> tuple[Any, bool]:
    """paperset.crawler.clean.normalize.clean_list (through the cache), and whether an element held unwanted
    characters."""
    if not isinstance(values, list):
        return values, False
    if all(type(value) is str for value in values):
        cleaned, unwanted = _text_list(tuple(values))
        return (list(cleaned) if cleaned is not None else None), unwanted  # a new list for each entry
    kept, unwanted = _clean_each(values)
    return kept or None, unwanted


def _clean_each(values: Any) -> tuple[list[Any], bool]:
    kept: list[Any] = []
    unwanted = False
    for value in values:
        if isinstance(value, str):
            value, dirty = _text(value)
            unwanted = unwanted or dirty
        if value is not None:
            kept.append(value)
    return kept, unwanted



def _leaf_cleaner(kind: Any) -> Callable[[Any], tuple[Any, str | None]]:
    """How a nested object's leaf of Arrow type `kind` is cleaned: (value, None), or (None, why not)."""
    if pa.types.is_boolean(kind):
        return lambda v: (v, None) if isinstance(v, bool) else (None, "not_a_bool")
    if pa.types.is_integer(kind):
        return lambda v: (v, None) if type(v) is int and v >= 0 else (None, "not_a_count")
    if pa.types.is_timestamp(kind):
        def moment(v: Any) -> tuple[Any, str | None]:
            cleaned = _timestamp(v) if isinstance(v, str) else canonical_timestamp(v)
            return (cleaned, None) if cleaned is not None else (None, "not_a_date")
        return moment
    if pa.types.is_string(kind):
        return lambda v: (_text(v)[0], None) if isinstance(v, str) else (None, "not_text")
    return lambda v: (None, "unknown_type")


Cleaner = Callable[[Any, list[tuple[str, str]]], Any]


@cache
def _cleaner(kind: Any, where: str = "") -> Cleaner:
    """A nested value's cleaner for one Arrow type at one place (`.leaf.path`), made once: (value, problems)
    -> cleaned value, each leaf or object of the wrong shape None and listed in problems as (where, reason)."""
    if pa.types.is_list(kind):
        inner = _cleaner(kind.value_type, where)

        def clean_list(value: Any, problems: list[tuple[str, str]]) -> Any:
            if not isinstance(value, list):
                problems.append((where, "not_a_list"))
                return None
            return [inner(one, problems) for one in value] or None
        return clean_list
    if pa.types.is_struct(kind):
        subs = [(f.name, _cleaner(f.type, f"{where}.{f.name}")) for f in kind]

        def clean_struct(value: Any, problems: list[tuple[str, str]]) -> Any:
            if not isinstance(value, dict):
                problems.append((where, "not_an_object"))
                return None
            out = {}
            for name, sub in subs:
                item = value.get(name)
                if item is not None:
                    cleaned = sub(item, problems)
                    if cleaned is not None:
                        out[name] = cleaned
            return out or None
        return clean_struct
    leaf = _leaf_cleaner(kind)

    def clean_leaf(value: Any, problems: list[tuple[str, str]]) -> Any:
        cleaned, reason = leaf(value)
        if reason:
            problems.append((where, reason))
        return cleaned
    return clean_leaf


def clean_nested(kind: Any, value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A nested value (struct or list of structs, keys already column names: paperset/crawler/site/source.py)
    with every leaf in canonical form; a leaf or object of the wrong shape is None, and each such place
    is listed as (`.leaf.path`, reason)."""
    return _nested_cleaner(kind)(value)


def _nested_cleaner(kind: Any) -> Callable[[Any], tuple[Any, list[tuple[str, str]]]]:
    remembered = _remembered_cleaner(kind)

    def clean(value: Any) -> tuple[Any, list[tuple[str, str]]]:
        cleaned, problems = remembered(value)
        return cleaned, [(where, reason) for where, reason in problems]
    return clean


@cache
def _remembered_cleaner(kind: Any) -> Callable[[Any], list[Any]]:
    """`_cleaner(kind)` through a memo (paperset/crawler/clean/memo.py): a known paper's authors are cleaned once.
    Gives [cleaned, [[where, reason], ...]] (lists: what JSON gives back)."""
    cleaner = _cleaner(kind)

    def clean(value: Any) -> list[Any]:
        problems: list[tuple[str, str]] = []
        cleaned = cleaner(value, problems)
        return [cleaned, [[where, reason] for where, reason in problems]]
    return json_memo(clean)


# Each nested field's cleaner, looked up once (hashing an Arrow type for a cache costs ~9 us).
NESTED_CLEANERS = tuple((name, _nested_cleaner(kind)) for name, kind in NESTED_FIELDS)


class NormalizePipeline:
    """Puts each entry in canonical form; validation comes next and judges the result.

    Every value first converts to its field's type only when nothing is lost (paperset.crawler.clean.values: "12" and
    12.0 are 12; True, 3.5, a string of authors, a list for an organization are not): a value that does
    not is counted `paperset/bad_values/<field>/<reason>` and rejects the entry (`bad_type`) when the field
    is one it cannot be without (title, paper_id, abstract), else the field is kept null. So is a link
    that is not a URL (also `paperset/repaired/bad_url`) and a date that is not one (`not_a_date`).
    Removed control characters are counted (`paperset/repaired/control_chars`). Settings:
    `PAPERSET_NORMALIZE_ENABLED`.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        if not crawler.settings.getbool("PAPERSET_NORMALIZE_ENABLED"):
            raise NotConfigured
        assert crawler.stats is not None
        return cls(crawler.stats)

    def bad_value(self, entry: Any, name: str, reason: str, value: Any) -> None:
        """Count a value that did not convert; reject the entry for a field it cannot be without, else
        keep the field null."""
        if name in REQUIRED:
            raise Rejected("bad_type", f"{name}: {reason} ({value!r})"[:300], field=name, problem=reason)
        self.stats.inc_value(f"paperset/bad_values/{name}/{reason}")
        entry[name] = None

    def convert(self, entry: Any) -> None:
        for name, exact, conversion in CONVERSIONS:
            value = entry.get(name)
            if value is None or (type(value) is exact and exact is not list):
                continue
            try:
                entry[name] = conversion(value)
            except BadValue as exc:
                self.bad_value(entry, name, exc.reason, value)

    def typed(self, entry: Any) -> None:
        """Flags and nested objects (user references, author objects, the organization): a leaf of the
        wrong type is null and counted `paperset/bad_values/<field>.<leaf>/<reason>`; the rest is kept."""
        for name in BOOL_FIELDS:
            value = entry.get(name)
            if value is not None and not isinstance(value, bool):
                self.bad_value(entry, name, "not_a_bool", value)
        for name, clean in NESTED_CLEANERS:
            value = entry.get(name)
            if value is None:
                continue
            entry[name], problems = clean(value)
            for where, reason in problems:
                self.stats.inc_value(f"paperset/bad_values/{name}{where}/{reason}")

    def process_item(self, item: Any) -> Any:
        # Our own dataclass is changed through its __dict__: no adapter round trip per field.
        entry: Any = item.__dict__ if type(item) is PaperEntry else ItemAdapter(item)
        self.convert(entry)
        unwanted = False
        for name in TEXT_FIELDS:
            value = entry.get(name)
            if isinstance(value, str):
                entry[name], dirty = _text(value)
                unwanted = unwanted or dirty
            else:
                entry[name] = value
        for name in LIST_FIELDS:
            entry[name], dirty = _clean_list(entry.get(name))
            unwanted = unwanted or dirty
        if unwanted:
            self.stats.inc_value("paperset/repaired/control_chars")
        for name in URL_FIELDS:
            raw = entry.get(name)
            entry[name] = _url(raw) if isinstance(raw, str) else canonical_url(raw)
            if raw is not None and entry[name] is None:
                self.stats.inc_value("paperset/repaired/bad_url")
                self.stats.inc_value(f"paperset/bad_values/{name}/not_a_url")
        for name in DATE_FIELDS:
            raw = entry.get(name)
            if raw is None:
                continue
            entry[name] = _timestamp(raw) if isinstance(raw, str) else canonical_timestamp(raw)
            if entry[name] is None:
                self.bad_value(entry, name, "not_a_date", raw)
        self.typed(entry)
        raw_id = entry.get("paper_id")
        parsed = _arxiv_id(raw_id) if type(raw_id) is str else canonical_arxiv_id(raw_id)
        if parsed is not None:
            entry["paper_id"], version = parsed
            entry["arxiv_version"] = version
        return item

"""Every field of an entry in canonical form, from the field table (paperset/spool/fields.py): which fields
get which normalization, the conversion a raw value must pass (paperset.crawler.clean.values), and the
cleaners of texts, URLs, dates, arXiv ids, lists and nested structs (paperset.crawler.clean.normalize does
one value; this module, whole fields). Pure: no Scrapy; the normalize pipeline is a thin adapter over it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import pyarrow as pa

from paperset.crawler.clean.normalize import (
    canonical_arxiv_id,
    canonical_timestamp,
    canonical_url,
    clean_text,
    has_unwanted_characters,
    left_as_is,
)
from paperset.crawler.clean.values import to_count, to_text, to_text_list
from paperset.spool.fields import BY_NAME, SOURCED, of_kind

# The fields of each normalization, from the field table (paperset/spool/fields.py).
TEXT_FIELDS = of_kind("text", "org_name")
LIST_FIELDS = of_kind("names", "text_list")
URL_FIELDS = of_kind("url")
DATE_FIELDS = (*of_kind("date"), "crawled_at")
COUNT_FIELDS = of_kind("count")
# A sighting's fields read from the site, with the arXiv version its id carries: the same paper seen on another
# listing gives the same ones, so the cleaning steps remember what they made of them
# (paperset/crawler/clean/memo.py StepMemo); the other fields say where and when it was seen.
CONTENT_FIELDS = (*(f.name for f in SOURCED), "arxiv_version")
# The dates among them, and the sighting's own (when it was seen).
CONTENT_DATES = tuple(name for name in DATE_FIELDS if name in CONTENT_FIELDS)
SIGHTING_DATES = tuple(name for name in DATE_FIELDS if name not in CONTENT_FIELDS)
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
def text_value(value: str) -> tuple[str | None, bool]:
    """clean_text of a string, and whether it held characters cleaning removes."""
    return clean_text(value), has_unwanted_characters(value)


@lru_cache(maxsize=CACHE_SIZE)
def url_value(value: str) -> str | None:
    return canonical_url(value)


@lru_cache(maxsize=CACHE_SIZE)
def timestamp_value(value: str) -> str | None:
    return canonical_timestamp(value)


@lru_cache(maxsize=CACHE_SIZE)
def arxiv_id_value(value: str) -> tuple[str, int | None] | None:
    return canonical_arxiv_id(value)


@lru_cache(maxsize=CACHE_SIZE)
def _text_list(values: tuple[str, ...]) -> tuple[tuple[str, ...] | None, bool]:
    """A list of strings cleaned as a whole (a known paper's authors come again and again)."""
    if left_as_is(values):  # most lists of names: one test instead of cleaning each name
        return values, False
    kept, unwanted = _clean_each(values)
    return (tuple(kept) if kept else None), unwanted


def list_value(values: Any) -> tuple[Any, bool]:
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
            value, dirty = text_value(value)
            unwanted = unwanted or dirty
        if value is not None:
            kept.append(value)
    return kept, unwanted



Cleaner = Callable[[Any, list[tuple[str, str]]], Any]


def _leaf_cleaner(kind: Any, where: str) -> Cleaner:
    """How a nested object's leaf of Arrow type `kind` at `where` is cleaned: (value, problems) -> the value
    in canonical form, or None with (where, why not) added to problems."""
    def wrong(reason: str) -> Cleaner:
        def refuse(value: Any, problems: list[tuple[str, str]]) -> Any:
            problems.append((where, reason))
            return None
        return refuse

    if pa.types.is_boolean(kind):
        refuse = wrong("not_a_bool")
        return lambda v, problems: v if isinstance(v, bool) else refuse(v, problems)
    if pa.types.is_integer(kind):
        refuse = wrong("not_a_count")
        return lambda v, problems: v if type(v) is int and v >= 0 else refuse(v, problems)
    if pa.types.is_timestamp(kind):
        refuse = wrong("not_a_date")

        def moment(v: Any, problems: list[tuple[str, str]]) -> Any:
            cleaned = timestamp_value(v) if isinstance(v, str) else canonical_timestamp(v)
            return cleaned if cleaned is not None else refuse(v, problems)
        return moment
    if pa.types.is_string(kind):
        refuse = wrong("not_text")
        # Not through text_value's cache: a first sighting's nested texts (names, accounts, avatar URLs) are
        # nearly all new, and a miss costs more than the cleaning's fast path.
        return lambda v, problems: clean_text(v) if isinstance(v, str) else refuse(v, problems)
    return wrong("unknown_type")


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
    return _leaf_cleaner(kind, where)


def clean_nested(kind: Any, value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A nested value (struct or list of structs, keys already column names: paperset/crawler/site/source.py)
    with every leaf in canonical form; a leaf or object of the wrong shape is None, and each such place
    is listed as (`.leaf.path`, reason)."""
    return _nested_cleaner(kind)(value)


def _nested_cleaner(kind: Any) -> Callable[[Any], tuple[Any, list[tuple[str, str]]]]:
    """`_cleaner(kind)` as (value) -> (cleaned, problems). Not remembered: a paper seen again is given what its
    first sighting's fields became (StepMemo in the normalize step), and a value seen first cleans faster than
    a memo keys it."""
    cleaner = _cleaner(kind)

    def clean(value: Any) -> tuple[Any, list[tuple[str, str]]]:
        problems: list[tuple[str, str]] = []
        return cleaner(value, problems), problems
    return clean


# Each nested field's cleaner, looked up once (hashing an Arrow type for a cache costs ~9 us).
NESTED_CLEANERS = tuple((name, _nested_cleaner(kind)) for name, kind in NESTED_FIELDS)


def _copier(kind: Any) -> Callable[[Any], Any] | None:
    """How a normalized value of Arrow type `kind` is copied so that its lists and dicts are its own, its texts
    and numbers shared (None: nothing to copy). Normalized values have their field's shape (the cleaners above
    make sure of it), so the copy follows the type instead of looking at every value."""
    if pa.types.is_list(kind):
        inner = _copier(kind.value_type)
        if inner is None:
            return lambda value: value[:] if type(value) is list else value
        return lambda value: [None if one is None else inner(one) for one in value] if type(value) is list else value
    if pa.types.is_struct(kind):
        subs = [(f.name, sub) for f in kind if (sub := _copier(f.type)) is not None]

        def copy_struct(value: Any) -> Any:
            if type(value) is not dict:
                return value
            out = value.copy()
            for name, sub in subs:
                one = out.get(name)
                if one is not None:
                    out[name] = sub(one)
            return out
        return copy_struct
    return None


def _copy_of(name: str) -> Callable[[Any], Any] | None:
    return _copier(BY_NAME[name].type) if name in BY_NAME else None


# For each of CONTENT_FIELDS, in order, how its normalized value is copied (None: text, number or flag).
CONTENT_COPIERS = tuple(_copy_of(name) for name in CONTENT_FIELDS)


def copy_content(values: Any) -> list[Any]:
    """A normalized entry's CONTENT_FIELDS values (in order) as values of its own: what the normalize step's
    memo hands out to a paper seen again."""
    return [value if copy is None or value is None else copy(value)
            for value, copy in zip(values, CONTENT_COPIERS, strict=True)]

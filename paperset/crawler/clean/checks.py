"""The rules an entry must meet to be kept: required fields, types and ranges (those the spool schema can
store), lengths, dates and counts (`check_entry`, its `Limits` from the settings); a failing entry raises
`Rejected` with a reason. The validate pipeline is a thin adapter over it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import pyarrow as pa
from itemadapter import ItemAdapter

from paperset.crawler.clean.fields import CONTENT_FIELDS, DATE_FIELDS, SIGHTING_DATES
from paperset.crawler.clean.normalize import canonical_arxiv_id
from paperset.crawler.clean.rejects import Rejected
from paperset.crawler.settings.fields import read_settings, setting
from paperset.spool.schema import ENTRY, NON_NEGATIVE, entry_value_problem, fits_test, int_bounds

# arXiv's first paper: nothing on the site can be older.
EARLIEST = datetime(1991, 8, 1, tzinfo=UTC)
# Known papers are seen again and again: the same id and dates are parsed once.
CACHE_SIZE = 1 << 13


def storable(name: str) -> Callable[[Any], bool]:
    """A quick test that is true only for values `entry_value_problem(name, ...)` accepts (exact types;
    anything else, a subclass included, is asked of `entry_value_problem` itself, which words the problem).
    Made once per field: looking the field's Arrow type up for every entry was most of validation's time."""
    kind = ENTRY.field(name).type
    if pa.types.is_integer(kind):
        low, high = int_bounds(kind)
        low = max(low, 0) if name in NON_NEGATIVE else low
        return lambda v: v is None or (type(v) is int and low <= v <= high)
    if pa.types.is_floating(kind):
        return lambda v: v is None or type(v) is int or (type(v) is float and math.isfinite(v))
    if pa.types.is_string(kind) or pa.types.is_timestamp(kind):
        return lambda v: v is None or type(v) is str
    if pa.types.is_list(kind) and pa.types.is_string(kind.value_type):
        return lambda v: v is None or (type(v) is list and all(type(x) is str for x in v))
    return fits_test(kind)  # flags and nested objects: the rule itself


# The fields the schema rule checks (dates: the date rule below), each with its quick test.
SCHEMA_CHECKS = tuple((name, storable(name)) for name in ENTRY.names if name not in DATE_FIELDS)
# Those of the sighting's own fields (paperset/crawler/clean/fields.py CONTENT_FIELDS: the others).
_SIGHTING_CHECKS = tuple(check for check in SCHEMA_CHECKS if check[0] not in CONTENT_FIELDS)


@lru_cache(maxsize=CACHE_SIZE)
def _is_arxiv_id(paper_id: str) -> bool:
    return canonical_arxiv_id(paper_id) == (paper_id, None)


@lru_cache(maxsize=CACHE_SIZE)
def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Limits:
    """Bounds an entry must keep. Settings: PAPERSET_MAX_TITLE_CHARS, PAPERSET_MAX_ABSTRACT_CHARS,
    PAPERSET_MAX_FUTURE_DAYS (how far past the crawl's clock a date may lie)."""

    max_title_chars: int = setting("PAPERSET_MAX_TITLE_CHARS")
    max_abstract_chars: int = setting("PAPERSET_MAX_ABSTRACT_CHARS")
    max_future_days: int = setting("PAPERSET_MAX_FUTURE_DAYS")

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(**read_settings(cls, settings))  # each parsed and range-checked (SettingError)


def check_entry(entry: ItemAdapter, limits: Limits, now: datetime) -> None:
    """Raise Rejected with the first problem found; return quietly for a valid (normalized) entry."""
    title, abstract, paper_id = entry.get("title"), entry.get("abstract"), entry.get("paper_id")
    for name in ("title", "abstract", "paper_id", "ai_summary", "organization"):
        if entry.get(name) is not None and not isinstance(entry.get(name), str):
            raise Rejected("bad_type", f"{name} is {type(entry.get(name)).__name__}", field=name, problem="not_text")
    if not title:
        raise Rejected("missing_title")
    if paper_id is None and not abstract:
        raise Rejected("missing_id_and_abstract")
    if len(title) > limits.max_title_chars:
        raise Rejected("title_too_long", f"{len(title)} > {limits.max_title_chars} characters", field="title",
                       problem="too_long")
    if abstract is not None and len(abstract) > limits.max_abstract_chars:
        raise Rejected("abstract_too_long", f"{len(abstract)} > {limits.max_abstract_chars} characters",
                       field="abstract", problem="too_long")
    if paper_id is not None and not _is_arxiv_id(paper_id):
        raise Rejected("bad_paper_id", f"{paper_id!r} is not an arXiv id", field="paper_id", problem="not_an_arxiv_id")
    _check_fields(entry, limits, now, SCHEMA_CHECKS, DATE_FIELDS)


def check_sighting(entry: ItemAdapter, limits: Limits, now: datetime) -> None:
    """`check_entry` of an entry whose paper's fields (CONTENT_FIELDS) passed it before (a later `now` only
    widens the dates allowed): the rules on the fields that say where and when it was seen, in
    `check_entry`'s order, so that the first problem found is the one `check_entry` would name."""
    _check_fields(entry, limits, now, _SIGHTING_CHECKS, SIGHTING_DATES)


def _check_fields(entry: ItemAdapter, limits: Limits, now: datetime, checks: tuple[tuple[str, Any], ...],
                  dates: tuple[str, ...]) -> None:
    for name, ok in checks:
        # The spool schema says what can be stored (type and range): nothing accepted here fails packaging.
        value = entry.get(name)
        if ok(value):
            continue
        problem = entry_value_problem(name, value)
        if problem is None:
            continue
        raise _schema_rejection(name, value, problem)
    latest = now + timedelta(days=limits.max_future_days)
    for name in dates:
        value = entry.get(name)
        if value is None:
            continue
        moment = _moment(value) if isinstance(value, str) else None
        if moment is None:
            raise Rejected("bad_date", f"{name} = {value!r} is not a date", field=name, problem="not_a_date")
        if moment.tzinfo is None or not EARLIEST <= moment <= latest:
            raise Rejected("bad_date", f"{name} = {value} is outside {EARLIEST.date()}..{latest.date()}", field=name,
                           problem="out_of_range")


def _schema_rejection(name: str, value: Any, problem: str) -> Rejected:
    """Why a value the spool schema cannot store rejects its entry: a count that is not one (`bad_count`),
    one past its type's range (`out_of_range`), any other type (`bad_type`)."""
    if name not in NON_NEGATIVE:
        return Rejected("bad_type", problem, field=name, problem="bad_type")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        kind = "negative" if isinstance(value, int) and not isinstance(value, bool) else "not_a_number"
        return Rejected("bad_count", f"{name} = {value!r}", field=name, problem=kind)
    return Rejected("out_of_range", problem, field=name, problem="out_of_range")

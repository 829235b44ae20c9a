"""The spool contract's one definition of an entry: its fields, their Arrow types and the values they may
hold. The crawl's item (paperset/crawler/site/items.py), its validation, the spool writer and readers, and the
packager's snapshot schemas all read it."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import pyarrow as pa

from paperset.spool.fields import ENTRY_TABLE, in_table
from paperset.spool.fields import TS as TS  # the time type, for the packager

# The spool format: a spool's meta.json names it; readers refuse any other.
SCHEMA = "paperset.spool/1"

# A spool entry, as the crawl writes it and the packager reads it: the entry columns of the field table
# (paperset/spool/fields.py). Validation (paperset/crawler/clean/checks.py) accepts a value only when
# `entry_value_problem` finds none, so whatever it lets through can be stored.
ENTRY = pa.schema([(f.name, f.type) for f in in_table(ENTRY_TABLE)])
# The order of an entry's fields: a spool line's keys, the item's attributes.
ENTRY_FIELDS: tuple[str, ...] = tuple(ENTRY.names)
# Counts and positions: never below 0 (their upper bound is their Arrow type's).
NON_NEGATIVE = frozenset({"arxiv_version", "upvotes", "num_comments", "github_stars", "rank", "daily_paper_rank"})


def int_bounds(kind: pa.DataType) -> tuple[int, int]:
    """The smallest and largest value an Arrow integer type holds."""
    bits = kind.bit_width
    if pa.types.is_signed_integer(kind):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def entry_value_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be stored in the entry field `name` (its Arrow type and range), or None. Times
    are ISO text in an entry; their range is the validator's date rule."""
    if value is None or name not in ENTRY.names:
        return None
    kind = ENTRY.field(name).type
    if pa.types.is_integer(kind):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} is {type(value).__name__}, not a whole number"
        low, high = int_bounds(kind)
        low = max(low, 0) if name in NON_NEGATIVE else low
        if not low <= value <= high:
            return f"{name} = {value} is outside {low}..{high} ({kind})"
    elif pa.types.is_floating(kind):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return f"{name} = {value!r} is not a finite number"
    elif pa.types.is_string(kind) or pa.types.is_timestamp(kind):
        if not isinstance(value, str):
            return f"{name} is {type(value).__name__}, not text"
    elif pa.types.is_list(kind) and pa.types.is_string(kind.value_type):
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return f"{name} is not a list of text"
    elif not fits(kind, value):
        return f"{name} is not a {kind}"
    return None


def fits(kind: pa.DataType, value: Any) -> bool:
    """Whether `value` (as an entry holds it: times as ISO text) can be stored as Arrow type `kind`,
    nested values field by field."""
    return value is None or _fits(kind)(value)


def fits_test(kind: pa.DataType) -> Callable[[Any], bool]:
    """`fits` for one type as a function of the value, to be looked up once (hashing an Arrow type for
    `fits`'s cache costs ~9 us a call)."""
    test = _fits(kind)
    return lambda value: value is None or test(value)


@cache
def _fits(kind: pa.DataType) -> Callable[[Any], bool]:
    """`fits` for one type (not None), made once: a nested type's field table is built here, not per value."""
    if pa.types.is_boolean(kind):
        return lambda value: isinstance(value, bool)
    if pa.types.is_integer(kind):
        low, high = int_bounds(kind)
        return lambda value: type(value) is int and low <= value <= high
    if pa.types.is_floating(kind):
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if pa.types.is_string(kind) or pa.types.is_timestamp(kind):
        return lambda value: isinstance(value, str)
    if pa.types.is_list(kind):
        inner = _fits(kind.value_type)
        return lambda value: isinstance(value, list) and all(v is None or inner(v) for v in value)
    if pa.types.is_struct(kind):
        names = {kind.field(i).name: _fits(kind.field(i).type) for i in range(kind.num_fields)}

        def fits_struct(value: Any) -> bool:
            return isinstance(value, dict) and all(
                k in names and (v is None or names[k](v)) for k, v in value.items())
        return fits_struct
    return lambda value: False


def python_type(kind: pa.DataType) -> type:
    """The Python type an entry holds for an Arrow type (times are ISO text until the packager parses them)."""
    if pa.types.is_integer(kind):
        return int
    if pa.types.is_floating(kind):
        return float
    if pa.types.is_list(kind):
        return list
    if pa.types.is_boolean(kind):
        return bool
    if pa.types.is_struct(kind):
        return dict
    return str

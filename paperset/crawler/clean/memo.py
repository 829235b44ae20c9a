"""A bounded memo for pure functions of a site value (dicts, lists, text, numbers, flags as JSON parsing
gives them): a known paper's author list is seen again on every listing that shows it, and shaping or
cleaning it again gives the same result. Each hit returns a fresh copy (an entry's value is its own to
change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

# Values kept per function; the memo is emptied when full (the papers of a crawl repeat within days).
MEMO_SIZE = 1 << 13


def json_memo(function: Callable[[Any], Any], size: int = MEMO_SIZE, *, fresh: bool = True) -> Callable[[Any], Any]:
    """`function` with a memo keyed by the value's JSON (orjson: tells 1, 1.0, true and "1" apart, keeps key
    order). A hit whose key holds a null also compares the value with the one remembered (NaN, infinities
    and None all write as null); a value
    or result JSON cannot hold exactly (NaN, an integer beyond 64 bits, a key that is not text) is computed
    every time. `fresh=False`: a hit gives the remembered result itself, for a caller that only reads it."""
    kept: dict[bytes, tuple[Any, bytes, Any]] = {}
    # Keys seen once: a value is remembered when seen the second time (most values of a crawl of new
    # papers are seen once: remembering costs three more JSON steps than computing).
    once: set[bytes] = set()

    def remembered(value: Any) -> Any:
        try:
            key = orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError
            return function(value)
        hit = kept.get(key)
        # Only NaN and infinities write as another value does (null): a key without null needs no comparing.
        if hit is not None and (b"null" not in key or hit[0] == value):
            return orjson.loads(hit[1]) if fresh else hit[2]
        if key not in once:
            if len(once) >= size:
                once.clear()
            once.add(key)
            return function(value)
        result = function(value)
        try:
            blob = orjson.dumps(result)
        except TypeError:
            return result
        seen = orjson.loads(key)
        if seen != value or orjson.loads(blob) != result:
            return result
        if len(kept) >= size:
            kept.clear()
        kept[key] = (seen, blob, result)
        return result
    return remembered


class StepMemo:
    """What a cleaning step made of an entry's site-read fields, by their values: the same paper seen on
    another listing (a day, its week, its month, a hundred searches) gives the same fields, and the step's
    work on them (normalizing, checking) gives the same result. Remembered at the first sighting (an entry
    carries many fields: keying them once is cheap beside cleaning them). Keyed by the values' JSON (orjson),
    a hit also compares the values themselves (NaN and None both write as null); values JSON cannot hold are
    never remembered. Bounded: emptied when full."""

    def __init__(self, fields: tuple[str, ...], size: int = MEMO_SIZE) -> None:
        self.fields, self.size = fields, size
        self.kept: dict[bytes, tuple[list[Any], Any]] = {}

    def key(self, entry: dict[str, Any]) -> tuple[bytes, list[Any]] | None:
        """The key of the entry's fields (None: they cannot be remembered), and their values."""
        values = [entry.get(name) for name in self.fields]
        try:
            return orjson.dumps(values), values
        except TypeError:  # orjson.JSONEncodeError: a value JSON cannot hold
            return None

    def recall(self, key: tuple[bytes, list[Any]] | None) -> Any:
        """What was remembered for these values, or None."""
        if key is None:
            return None
        hit = self.kept.get(key[0])
        return hit[1] if hit is not None and hit[0] == key[1] else None

    def keep(self, key: tuple[bytes, list[Any]] | None, result: Any) -> None:
        """Remember `result` for these values (a None result: nothing)."""
        if key is None or result is None:
            return
        if len(self.kept) >= self.size:
            self.kept.clear()
        self.kept[key[0]] = (key[1], result)

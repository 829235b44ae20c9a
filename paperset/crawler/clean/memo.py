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

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


def json_memo(function: Callable[[Any], Any], size: int = MEMO_SIZE) -> Callable[[Any], Any]:
    """`function` with a memo keyed by the value's JSON (orjson: tells 1, 1.0, true and "1" apart, keeps key
    order). A hit also compares the value with the one remembered (NaN and null share a JSON text); a value
    or result JSON cannot hold exactly (NaN, an integer beyond 64 bits, a key that is not text) is computed
    every time."""
    kept: dict[bytes, tuple[Any, bytes]] = {}

    def remembered(value: Any) -> Any:
        try:
            key = orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError
            return function(value)
        hit = kept.get(key)
        if hit is not None and hit[0] == value:
            return orjson.loads(hit[1])
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
        kept[key] = (seen, blob)
        return result
    return remembered

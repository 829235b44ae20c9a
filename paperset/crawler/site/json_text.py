"""JSON answers and hydration props read with orjson, `json.loads` as the rule.

`read_json` gives what `json.loads` gives: orjson reads what it can (strict JSON, ~2x faster on a page's
props); anything it refuses (NaN, Infinity, a lone surrogate), and any text with 19 digits in a row
(orjson reads an integer beyond 64 bits as a float), is read by `json.loads`, so the value and the
errors are `json`'s (tests/crawler/site/test_json_text.py)."""

from __future__ import annotations

import json
from typing import Any

import orjson

# Every ASCII digit as "9": a run of 19 digits (maybe an integer beyond 64 bits) is found with one `find`.
_DIGITS = bytes.maketrans(b"0123456789", b"9" * 10)
_NINETEEN = b"9" * 19


def read_json(text: str | bytes) -> Any:
    """`json.loads(text)`: the same value, or the same `json.JSONDecodeError`."""
    return read_json_strict(text)[0]


def read_json_strict(text: str | bytes) -> tuple[Any, bool]:
    """`read_json(text)`, and whether orjson read it: then the value holds no NaN, no Infinity and no integer
    past 64 bits, and `orjson.dumps` of any part of it is exact (no two different values write the same
    bytes), which makes those bytes a key of what the part gives (PaperEntry's `source_json`)."""
    try:
        data = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate
        return json.loads(text), False
    if data.translate(_DIGITS).find(_NINETEEN) < 0:
        try:
            return orjson.loads(data), True
        except orjson.JSONDecodeError:
            pass
    return json.loads(text), False

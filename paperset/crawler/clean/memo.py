"""What a cleaning step made of a paper's site-read fields, remembered by their values (StepMemo): a known
paper is seen again on every listing that shows it, and cleaning the same fields again gives the same
result. (A memo of single values, such as an author list, was tried and left out: once the whole entry is
remembered, a value met for the first time cleans faster than a memo can key it.)"""

from __future__ import annotations

from typing import Any

import orjson

# Values kept per function; the memo is emptied when full (the papers of a crawl repeat within days).
MEMO_SIZE = 1 << 13


def fresh(value: Any) -> Any:
    """A copy of a JSON-shaped value whose lists and dicts are its own (texts and numbers, which nothing can
    change, are shared): what a memo hands out, so that no entry can change another's values."""
    kind = type(value)
    if kind is list:
        return [fresh(one) for one in value]
    if kind is dict:
        return {name: fresh(one) for name, one in value.items()}
    return value


class StepMemo:
    """What a cleaning step made of an entry's site-read fields, by their values: the same paper seen on
    another listing (a day, its week, its month, a hundred searches) gives the same fields, and the step's
    work on them (normalizing, checking) gives the same result. Remembered at the first sighting (an entry
    carries many fields: keying them once is cheap beside cleaning them). Keyed by the site's item the entry
    was read from, when it was exact JSON (the entry's `source_json`: paperset/crawler/site/items.py), else by
    the values' JSON (orjson), where a hit also compares the values themselves (NaN and None both write as
    null); values JSON cannot hold are never remembered. Bounded: emptied when full."""

    def __init__(self, fields: tuple[str, ...], size: int = MEMO_SIZE) -> None:
        self.fields, self.size = fields, size
        self.kept: dict[bytes, tuple[list[Any], Any]] = {}

    def key(self, entry: dict[str, Any]) -> tuple[bytes, list[Any] | None] | None:
        """The key of the entry's fields (None: they cannot be remembered), and their values to compare on
        a hit: none for an entry read from exact JSON (its `source_json`, an object, where a key written
        from the values is a list: the two never meet), whose bytes already say what its fields are."""
        source = entry.get("source_json")
        if source is not None:
            return source, None
        values = [entry.get(name) for name in self.fields]
        try:
            return orjson.dumps(values), values
        except TypeError:  # orjson.JSONEncodeError: a value JSON cannot hold
            return None

    def recall(self, key: tuple[bytes, list[Any] | None] | None) -> Any:
        """What was remembered for these values, or None."""
        if key is None:
            return None
        hit = self.kept.get(key[0])
        return hit[1] if hit is not None and hit[0] == key[1] else None

    def forget(self) -> None:
        """Everything remembered, let go (the crawl is over: not carried through the packaging)."""
        self.kept = {}

    def keep(self, key: tuple[bytes, list[Any] | None] | None, result: Any) -> None:
        """Remember `result` for these values (a None result: nothing)."""
        if key is None or result is None:
            return
        if len(self.kept) >= self.size:
            self.kept.clear()
        self.kept[key[0]] = (key[1], result)

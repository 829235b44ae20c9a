"""Reading the field table's columns (paperset/spool/fields.py) out of a site object, the same on every path (an API
item, a paper object, a page's hydration props), and the key census: the keys an object carried that no
column maps. Values are taken as they are; the normalizer (paperset/crawler/clean/fields.py) judges them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import pyarrow as pa

from paperset.spool.fields import SOURCED, VIEWER_DEPENDENT, column_name, mapped_keys

_MAPPED = mapped_keys()
# Key sets remembered per nested type, by the shaper and the census (the site's objects of one kind carry the
# same keys); emptied when full.
KEY_PLANS = 1024
# Items remembered by their exact JSON (read_item: a paper is shown on many listings); emptied when full.
ITEMS_READ = 1 << 13
_read: dict[bytes, tuple[dict[str, Any], tuple[tuple[str, int], ...]]] = {}


def none_if_empty(value: Any) -> Any:
    """Missing is None, never "" or []."""
    if value is None or value == "" or value == []:
        return None
    return value


def org_name(value: Any) -> Any:
    """An organization's name from its object; any other value as it is (the normalizer judges it)."""
    if isinstance(value, dict):
        return none_if_empty(value.get("name") or value.get("fullname"))
    return none_if_empty(value)


def _names(authors: Any) -> Any:
    """The names of author objects (empty names dropped); a value that is not a list as it is."""
    if not isinstance(authors, list):
        return none_if_empty(authors)
    names = [a.get("name") if isinstance(a, dict) else a for a in authors]
    return none_if_empty([n for n in names if n is not None and n != ""])


def nested(kind: pa.DataType, value: Any) -> Any:
    """A source object as the struct (or list of structs) `kind`: keys renamed to column names, keys the
    struct lacks left out (the census counts them), leaves as they are. A value of another shape is
    returned as it is, for the normalizer to count and drop."""
    return _shaper(kind)(value)


@cache
def _shaper(kind: pa.DataType) -> Callable[[Any], Any]:
    """`nested` for one type, made once (an author list is shaped for every entry)."""
    if pa.types.is_list(kind) and pa.types.is_struct(kind.value_type):
        inner = _shaper(kind.value_type)

        def shape_list(value: Any) -> Any:
            return none_if_empty([inner(v) for v in value]) if isinstance(value, list) else none_if_empty(value)
        return shape_list
    if pa.types.is_struct(kind):
        subs = {f.name: _shaper(f.type) if pa.types.is_struct(f.type) or pa.types.is_list(f.type) else None
                for f in kind}
        # What to take from an object of a given key set, in key order: (key, column, shaper or None).
        plans: dict[tuple[str, ...], tuple[tuple[str, str, Any], ...]] = {}

        def plan(keys: tuple[str, ...]) -> tuple[tuple[str, str, Any], ...]:
            steps = tuple((key, name, subs[name]) for key in keys if (name := column_name(key)) in subs)
            if len(plans) >= KEY_PLANS:
                plans.clear()
            plans[keys] = steps
            return steps

        def shape_struct(value: Any) -> Any:
            if not isinstance(value, dict):
                return none_if_empty(value)
            out = {}
            keys = tuple(value)
            steps = plans.get(keys)
            for key, name, sub in plan(keys) if steps is None else steps:
                item = value[key]
                if item is not None:
                    out[name] = item if sub is None else sub(item)
            return out or None
        return shape_struct
    return lambda value: value


# Each sourced column's sources, split once: (column, normalization, type, [(where, key), ...]).
# (A nested column's shaper is looked up here, once: hashing an Arrow type for a cache costs ~9 us.)
_READS = [(f.name, f.normalize, _shaper(f.type) if f.normalize == "nested" else None,
           [tuple(src.split(".", 1)) for src in f.source]) for f in SOURCED]


def read_fields(paper: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Every sourced column of the table, read from `paper` inside `item` (the same dict for a bare paper):
    the first non-empty value of its source keys (none_if_empty's rule, inline: this runs for every field
    of every entry), shaped for its normalization."""
    bare = item is paper
    out = {}
    for name, normalize, shape, sources in _READS:
        raw = None
        for where, key in sources:
            if where == "paper":
                value = paper.get(key)
            elif where == "wrapper" and bare:
                continue
            else:
                value = item.get(key)
            if value is None or value == "" or value == []:
                continue
            raw = org_name(value) if normalize == "org_name" else _names(value) if normalize == "names" else value
            if raw is not None:
                break
        out[name] = shape(raw) if shape is not None and raw is not None else raw
    return out


def _struct_of(where: str, key: str) -> pa.DataType | None:
    for f in SOURCED:
        if f.normalize == "nested" and f"{where}.{key}" in f.source:
            kind = f.type
            return kind.value_type if pa.types.is_list(kind) else kind
    return None


@cache
def _field_types(kind: pa.DataType) -> dict[str, pa.DataType]:
    return {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}


CensusCount = Callable[[Any, Counter[str]], None]


@lru_cache(maxsize=256)  # bounded: a path holds the site's own spelling of each key
def _nested_census(kind: pa.DataType, path: str) -> CensusCount:
    """The census of a nested value at `path` (a struct `kind`, or a list of them), counting into a Counter:
    each key of an object no field of `kind` maps, by its path, and the struct fields' own objects in turn.
    What an object of a given key set counts is worked out once (an author list is censused for every entry)."""
    names = _field_types(kind)
    plans: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[tuple[str, CensusCount], ...]]] = {}

    def plan(keys: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, CensusCount], ...]]:
        kept = [(key, column_name(key)) for key in keys if key not in VIEWER_DEPENDENT]
        unmapped = tuple(f"{path}.{key}" for key, name in kept if name not in names)
        inner = tuple((key, _nested_census(names[name], f"{path}.{key}")) for key, name in kept
                      if name in names and pa.types.is_struct(names[name]))
        if len(plans) >= KEY_PLANS:
            plans.clear()
        plans[keys] = (unmapped, inner)
        return unmapped, inner

    def count(value: Any, out: Counter[str]) -> None:
        for one in value if isinstance(value, list) else (value,):
            if not isinstance(one, dict):
                continue
            keys = tuple(one)
            unmapped, inner = plans.get(keys) or plan(keys)
            for name in unmapped:
                out[name] += 1
            for key, census_of in inner:
                census_of(one[key], out)
    return count


@lru_cache(maxsize=1024)
def _census_plan(where: str, keys: tuple[str, ...], bare: bool) -> tuple[tuple[str, Any], ...]:
    """What the census does with an object of these keys, in key order: (`where.KEY`, None) to count a key
    no column maps, (KEY, (census of an object, census of a list)) to census a nested value. Made once per
    key set (the site's objects of one kind carry the same keys)."""
    steps: list[tuple[str, Any]] = []
    for key in keys:
        if key in VIEWER_DEPENDENT or (where == "item" and key == "paper"):
            continue
        if key not in _MAPPED[where] and not (where == "paper" and bare and key in _MAPPED["item"]):
            steps.append((f"{where}.{key}", None))
            continue
        kind = _struct_of(where, key) or (_struct_of("wrapper", key) if where == "item" else None)
        if kind is not None:
            path = f"{where}.{key}"
            steps.append((key, (_nested_census(kind, path), _nested_census(kind, f"{path}[]"))))
    return tuple(steps)


def census(paper: dict[str, Any], item: dict[str, Any], out: Counter[str]) -> None:
    """Count into `out` each key of the object (by its path: `paper.KEY`, `item.KEY`,
    `paper.authors[].user.KEY`) that no column maps. Viewer-dependent keys are neither kept nor counted."""
    objects = [("paper", paper)] + ([("item", item)] if item is not paper else [])
    for where, obj in objects:
        for key, counts in _census_plan(where, tuple(obj), item is paper):
            if counts is None:
                out[key] += 1
                continue
            value = obj[key]
            (counts[1] if isinstance(value, list) else counts[0])(value, out)


def read_item(paper: dict[str, Any], item: dict[str, Any], unmapped: Counter[str] | None,
              source: bytes | None) -> dict[str, Any]:
    """`read_fields(paper, item)`, with the census into `unmapped` (when given). With `source`, the item's
    exact JSON (paperset/crawler/site/json_text.py read_json_strict), what the same bytes gave before is given
    again, its census counted again. Those fields are shared by every entry of the same element: the normalize
    step rebuilds every one of them, giving each entry values of its own (a copy here cost a search page's
    hundred known papers more than reading them)."""
    if source is None:
        if unmapped is not None:
            census(paper, item, unmapped)
        return read_fields(paper, item)
    hit = _read.get(source)
    if hit is None:
        counts: Counter[str] = Counter()
        census(paper, item, counts)
        if len(_read) >= ITEMS_READ:
            _read.clear()
        hit = _read[source] = (read_fields(paper, item), tuple(counts.items()))
    if unmapped is not None:
        for name, count in hit[1]:
            unmapped[name] += count
    return hit[0]


def forget_items() -> None:
    """`read_item`'s memory let go: the crawl is over (its ~5 KB a paper not carried through the packaging)."""
    _read.clear()

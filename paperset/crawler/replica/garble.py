"""The replica's `garble` fault: API answers and hydration props whose items carry values of the wrong type
(a boolean upvote count, a fractional comment count, authors as one string, ...), the rest byte for byte."""

from __future__ import annotations

import html
import json
import re
from typing import Any

_PROPS = re.compile(r'(data-target="DailyPapers" data-props=")([^"]*)(")')


def garble_items(items: list[Any], changes: list[dict[str, Any]]) -> None:
    """Set, in item i, each `changes[i]` key (`paper.upvotes`, `numComments`: a dotted path) to its value."""
    for item, change in zip(items, changes, strict=False):
        for path, value in change.items():
            *parents, last = path.split(".")
            target = item
            for name in parents:
                target = target[name]
            target[last] = value


def garble(body: bytes, changes: list[dict[str, Any]]) -> bytes:
    """The answer with its items changed: a JSON list (the API), or a page's `DailyPapers` props (its
    `dailyPapers` or `searchResults`); anything else unchanged."""
    text = body.decode("utf-8")
    if text.lstrip().startswith("["):
        items = json.loads(text)
        garble_items(items, changes)
        return json.dumps(items).encode("utf-8")

    def props(match: re.Match[str]) -> str:
        value = json.loads(html.unescape(match.group(2)))
        for name in ("searchResults", "dailyPapers"):
            if value.get(name):
                garble_items(value[name], changes)
                break
        return match.group(1) + html.escape(json.dumps(value), quote=True) + match.group(3)

    return _PROPS.sub(props, text).encode("utf-8")

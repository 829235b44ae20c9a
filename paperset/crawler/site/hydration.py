"""Reading a page's hydration props and JSON answers fast, with the slow readers as the rule.

A listing page is ~90% one attribute: the `data-props` JSON of its `DailyPapers` element. Building the
page's whole HTML tree (lxml, through parsel) to read that one attribute was ~2.5 ms a page, a fifth of
a search crawl's parsing. `props_text` finds the element's start tag by text and reads its attributes the
way the HTML tokenizer does; whenever the page is not the plain shape it knows (the element named more
than once or in another spelling, inside a comment or a script, an entity other than the five the site
writes, a carriage return or NUL, an attribute given twice) it says "not sure" (None) and the caller
reads the page with the HTML parser, as before. `tests/crawler/site/test_hydration.py` holds both readers
equal on every page the fixtures and the replica serve and on each such shape.

`read_json` is `json.loads` made faster by orjson for what orjson reads (strict JSON); anything it refuses
(NaN, Infinity, a lone surrogate), and any text with 19 digits in a row (orjson reads an integer
beyond 64 bits as a float), is read by `json.loads`, so the result and
the errors are `json`'s."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Every ASCII digit as "9": a run of 19 digits (maybe an integer beyond 64 bits, which orjson reads as a
# float) is found with one `find`, and such a text is read by json.
_DIGITS = bytes.maketrans(b"0123456789", b"9" * 10)
_NINETEEN = b"9" * 19
# One attribute of a start tag, as the HTML tokenizer splits them: a name, then optionally `=` and a
# double-quoted, single-quoted or unquoted value. The page is scanned as bytes lowercased (HTML names
# are ASCII-case-insensitive), values are read from the bytes as sent.
_ATTRIBUTE = re.compile(rb"""[\t\n\f ]*([^\t\n\f />"'=]+)"""
                        rb"""(?:[\t\n\f ]*=[\t\n\f ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f >"'=<`]+)))?""")
_TAG_OPEN = re.compile(rb"<([a-zA-Z][^\t\n\f />]*)")
_TAG_CLOSE = re.compile(rb"[\t\n\f ]*/?>")
# The entities the site's attribute escaping writes (`&amp;` is read last).
_ENTITIES = ((b"&quot;", b'"'), (b"&#x27;", b"'"), (b"&#39;", b"'"), (b"&lt;", b"<"), (b"&gt;", b">"))
# A prefix that puts what follows out of the tree (a comment, or raw text).
_OPENERS = ((b"<!--", b"-->"), *((b"<" + name, b"</" + name) for name in (
    b"script", b"style", b"textarea", b"template", b"title", b"xmp", b"iframe", b"noembed", b"noframes",
    b"noscript", b"plaintext")))


def read_json(text: str | bytes) -> Any:
    """`json.loads(text)`: the same value, or the same `json.JSONDecodeError`."""
    try:
        data = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate
        return json.loads(text)
    if data.translate(_DIGITS).find(_NINETEEN) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _unescape(value: bytes) -> bytes | None:
    """The attribute's text, when every `&` in it begins one of the site's entities; else None."""
    if b"&" not in value:
        return value
    text = value
    for entity, char in _ENTITIES:
        if entity in text:
            text = text.replace(entity, char)
    if text.count(b"&") != text.count(b"&amp;"):
        return None
    return text.replace(b"&amp;", b"&")


def _start_tag(page: bytes, lowered: bytes, start: int) -> tuple[dict[bytes, bytes], list[int]] | None:
    """The attributes of the start tag at `start` (lowercased names, values as sent) and where each name
    began; None when it is not one plain tag (an attribute given twice, no closing `>`)."""
    opened = _TAG_OPEN.match(lowered, start)
    if opened is None:
        return None
    pos, attributes, names_at = opened.end(), {}, []
    while True:
        if _TAG_CLOSE.match(lowered, pos) is not None:
            return attributes, names_at
        found = _ATTRIBUTE.match(page, pos)
        if found is None or found.end() == pos:
            return None
        name = lowered[found.start(1):found.end(1)]
        if name in attributes:
            return None
        value = next((g for g in found.groups()[1:] if g is not None), b"")
        attributes[name], pos = value, found.end()
        names_at.append(found.start(1))


def _in_raw_text(lowered: bytes, start: int) -> bool:
    return any(lowered.rfind(opener, 0, start) > lowered.rfind(closer, 0, start) for opener, closer in _OPENERS)


def props_text(html: str, target: str) -> bytes | None:
    """The text (UTF-8) of the `data-props` attribute of the one element whose `data-target` is `target`,
    when the page is the plain shape (see the module's docstring); None when not sure (read it with the
    parser)."""
    try:
        page = html.encode()
    except UnicodeEncodeError:
        return None
    lowered = page.lower()
    marker = f'data-target="{target}"'.encode()
    at = page.find(marker)
    # Any spelling of the name (and of the value: more careful than needed) counts as another element.
    named = rb"data-target[\t\n\f ]*=[\t\n\f ]*[\"']?" + re.escape(target.lower().encode()) + rb"(?=[\"'\t\n\f />])"
    if at < 0 or len(re.findall(named, lowered)) != 1:
        return None
    start = page.rfind(b"<", 0, at)
    tag = _start_tag(page, lowered, start) if start >= 0 else None
    if tag is None or at not in tag[1] or _in_raw_text(lowered, start):
        return None
    raw = tag[0].get(b"data-props")
    if raw is None or b"\r" in raw or b"\x00" in raw:
        return None
    return _unescape(raw)

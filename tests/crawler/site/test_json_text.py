"""paperset/crawler/site/json_text.py: `read_json` gives what `json.loads` gives, value and errors, also
where orjson alone would not (NaN, huge integers, lone surrogates); and listing pages read through it
give the same pages as through json."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from paperset.crawler.site import pages
from paperset.crawler.site.json_text import read_json, read_json_strict
from tests.conftest import FIXTURES


def test_every_listing_capture_reads_the_same_through_json(monkeypatch) -> None:
    found = []
    for path in sorted((FIXTURES / "cases" / "listing_page").glob("*/page.html")):
        html = path.read_text(encoding="utf-8")
        fast = pages.parse_listing(html, url="u", kind="day", key="k", unmapped=Counter())
        with monkeypatch.context() as m:
            m.setattr(pages, "read_json_strict", lambda text: (json.loads(text), False))
            slow = pages.parse_listing(html, url="u", kind="day", key="k", unmapped=Counter())
        assert fast == slow
        found.append(len(fast.entries))
    assert sum(found) > 0


@pytest.mark.parametrize("text", [
    '{"a": [1, 2.5, -0.0, 1e400, "x\\u00e9"]}', '[NaN, Infinity, -Infinity]', "123456789012345678901234567890",
    '"\\ud800"', '{"a": 1, "a": 2}', "[]", '"plain"', "-9223372036854775809", "[1, 18446744073709551616]",
    b'{"a": 12345678901234567890123}', '"\ud800"', '{"x": "1234567890123456789 in a text"}',
])
def test_read_json_gives_what_json_loads_gives(text: str | bytes) -> None:
    want, got = json.loads(text), read_json(text)
    assert repr(got) == repr(want)
    assert type(got) is type(want)
    if isinstance(want, list) and want and isinstance(want[0], float) and math.isnan(want[0]):
        assert math.isnan(got[0])


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", "nul"])
def test_read_json_raises_what_json_loads_raises(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as want:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        read_json(text)
    assert (got.value.msg, got.value.pos) == (want.value.msg, want.value.pos)


@pytest.mark.parametrize(("text", "strict"), [
    ('[{"a": 1, "b": [1.5, "x\u00e9", null, true]}]', True), (b'{"a": "caf\xc3\xa9"}', True),
    ("[NaN]", False), ('{"a": Infinity}', False), ("[1234567890123456789]", False), ('"\ud800"', False),
    ('"\\ud800 escaped"', False),
])
def test_read_json_strict_says_whether_orjson_read_it(text: str | bytes, strict: bool) -> None:
    """Strict: no value that orjson writes back differently (NaN and Infinity as null, a big integer), so the
    written bytes of a part are a key of that part (PaperEntry.source_json)."""
    value, got = read_json_strict(text)
    assert (repr(value), got) == (repr(read_json(text)), strict)

"""The fast readers (paperset/crawler/site/hydration.py) equal the slow ones they stand in for: the props
found by text equal the HTML parser's on every page the fixtures and the replica serve, and every shape
the text scan is not sure of is left to the parser; `read_json` equals `json.loads`, errors included."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parsel import Selector

from paperset.crawler.replica.render import render_listing
from paperset.crawler.replica.site import ReplicaSite
from paperset.crawler.site.hydration import props_text, read_json
from paperset.crawler.site.pages import parse_listing
from tests.conftest import FIXTURES

CASES = sorted((FIXTURES / "cases").glob("*/*/page.html"))


def parser_props(html: str, target: str = "DailyPapers") -> bytes | None:
    found = Selector(text=html).css(f'[data-target="{target}"]::attr(data-props)').get()
    return None if found is None else found.encode()


def replica_pages() -> list[str]:
    site = ReplicaSite()
    records = sorted(site.papers.values(), key=lambda r: r["paper"]["id"])[:40]
    items = [{"title": r["paper"]["title"], "paper": r["paper"], "numComments": r["numComments"]} for r in records]
    return [render_listing({"dateString": "2025-03-05", "dailyPapers": items}, items, stamp="2025-03-05T00:00:00"),
            render_listing({"query": "q", "searchResults": items}, items, stamp="2025-03-05T00:00:00", search=True)]


def test_the_real_captures_and_the_replica_pages_are_read_by_text_and_equal_the_parser() -> None:
    read = []
    for path in CASES:
        html = path.read_text(encoding="utf-8")
        for target in ("DailyPapers", "PaperContent"):
            fast = props_text(html, target)
            assert fast is None or fast == parser_props(html, target), (path, target)
            read.append((path.parent.name, target, fast is not None))
    # Every capture's element is read by text: the listings (2024 and 2025 generations, broken JSON too)
    # and the (prettified) paper page.
    fast_ones = sorted((name, target) for name, target, fast in read if fast)
    assert fast_ones == [("listing-2024-08-01", "DailyPapers"), ("listing-2024-08-01-broken-json", "DailyPapers"),
                         ("listing-2025-03-03", "DailyPapers"), ("paper-2509.24002-prettified", "PaperContent")]
    for html in replica_pages():
        assert props_text(html, "DailyPapers") == parser_props(html)
        assert props_text(html, "DailyPapers") is not None


def test_parse_listing_gives_the_same_page_by_text_as_by_the_parser() -> None:
    pages = [p.read_text(encoding="utf-8") for p in CASES if p.parent.parent.name == "listing_page"]
    for html in [*pages, *replica_pages()]:
        by_text = parse_listing(html, url="u", kind="day", key="2025-03-05", unmapped=Counter())
        by_parser = parse_listing(Selector(text=html), url="u", kind="day", key="2025-03-05", unmapped=Counter())
        assert by_text == by_parser
    assert len(parse_listing(replica_pages()[1], url="u", kind="search", key="q").entries) == 40


PROPS = '{"dailyPapers": [{"title": "a &amp; b < c"}]}'
ESCAPED = PROPS.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@pytest.mark.parametrize(("html", "fast"), [
    # the plain shape, with the props before the target, a `>` raw in the value, uppercase names
    (f'<div class="x" data-target="DailyPapers" data-props="{ESCAPED}"></div>', PROPS.encode()),
    (f'<div data-props="{ESCAPED}" data-target="DailyPapers"></div>', PROPS.encode()),
    (f'<div data-target="DailyPapers" DATA-PROPS="{ESCAPED}" title="a>b"></div>', PROPS.encode()),
    ('<div data-target="DailyPapers" data-props="{&quot;t&quot;: &quot;\u00e9\u4e2d&quot;}"/>',
     '{"t": "\u00e9\u4e2d"}'.encode()),
    ('<DIV data-target="DailyPapers" data-props="{}"></DIV><p data-target=DailyPapersX></p>', b"{}"),
    # left to the parser
    (f"<div data-target='DailyPapers' data-props='{PROPS}'></div>", None),
    (f'<div data-target="DailyPapers" data-props="{ESCAPED}"></div><p data-target=DailyPapers></p>', None),
    (f'<!-- <div data-target="DailyPapers" data-props="{ESCAPED}"></div> -->', None),
    (f'<script>x = \'<div data-target="DailyPapers" data-props="{ESCAPED}">\'</script>', None),
    ('<div data-target="DailyPapers" data-props="&eacute;"></div>', None),
    ('<div data-target="DailyPapers" data-props="a&b"></div>', None),
    ('<div data-target="DailyPapers" data-props="{}" data-props="[]"></div>', None),
    ('<div data-target="DailyPapers" data-props="{\r}"></div>', None),
    ('<div data-target="DailyPapers"></div>', None),
    ('<p>no element</p>', None),
    ('<div Data-Target="DailyPapers" data-props="{}"></div>', None),
    ('<div data-target="DailyPapers" data-props="{}"></div><p DATA-TARGET = "DailyPapers"></p>', None),
    ('<div data-target="DailyPapers" data-props="\ud800"></div>', None),
])
def test_the_text_scan_reads_plain_shapes_and_leaves_every_other_to_the_parser(html: str, fast: bytes | None) -> None:
    assert props_text(html, "DailyPapers") == fast
    if fast is not None:
        assert fast == parser_props(html)


@given(st.text(alphabet=st.sampled_from(list("ab&;<>\"'=/ -x#39quotampltg")), max_size=40))
def test_whatever_the_value_the_scan_agrees_with_the_parser_or_stays_out(value: str) -> None:
    html = f'<div data-target="DailyPapers" data-props="{value}"></div>'
    fast = props_text(html, "DailyPapers")
    assert fast is None or fast == parser_props(html)


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

"""An entry read from exact JSON (an API answer's or a listing page's element that orjson read) carries that
element's bytes (`source_json`): the same bytes give the same paper's fields, so extraction
(paperset/crawler/site/source.py read_item) and the cleaning steps' memos key on them. Each sighting gets its own
census counts and, from the normalize step on, values of its own; an answer orjson cannot read (NaN) gives
no key."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields

import orjson
import pytest

from paperset.crawler.clean.fields import CONTENT_FIELDS
from paperset.crawler.pipelines.normalize import NormalizePipeline
from paperset.crawler.site.pages import parse_api_listing, parse_listing, parse_paper_page
from tests.conftest import FIXTURES, project_crawler

ANSWER = FIXTURES / "cases" / "api_listing" / "day-2025-05-15" / "answer.json"
LISTING = FIXTURES / "cases" / "listing_page" / "listing-2024-08-01" / "page.html"
PAPER_PAGE = FIXTURES / "cases" / "paper_page" / "paper-2509.24002-prettified" / "page.html"


def _api(text: str, unmapped: Counter[str] | None = None) -> list:
    return parse_api_listing(text, url="u", kind="day", key="2025-05-15", unmapped=unmapped)


def test_entries_of_an_api_answer_and_a_listing_page_carry_their_elements_json() -> None:
    text = ANSWER.read_text(encoding="utf-8")
    assert [e.source_json for e in _api(text)] == [orjson.dumps(item) for item in json.loads(text)]
    page = parse_listing(LISTING.read_text(encoding="utf-8"), url="u", kind="day", key="2024-08-01")
    assert len(page.entries) == 13
    assert all(e.source_json.startswith(b"{") for e in page.entries)
    # not a field: never spooled, exported or compared
    assert "source_json" not in {f.name for f in fields(page.entries[0])}
    assert "source_json" not in page.entries[0].to_dict()


def test_no_key_where_the_json_was_not_exact_or_the_page_adds_fields() -> None:
    items = json.loads(ANSWER.read_text(encoding="utf-8"))
    with_nan = json.dumps(items).replace('"upvotes": ', '"upvotes": NaN, "x": ', 1)
    assert [e.source_json for e in _api(with_nan)] == [None] * len(items)
    paper = parse_paper_page(PAPER_PAGE.read_text(encoding="utf-8"), url="u")
    assert paper.source_json is None


def test_a_known_element_reads_the_same_and_its_census_is_counted_again() -> None:
    text = json.dumps([{**item, "newKey": 1} for item in json.loads(ANSWER.read_text(encoding="utf-8"))])
    first_census, again_census = Counter(), Counter()
    first, again = _api(text, first_census), _api(text, again_census)
    assert first == again
    assert first_census == again_census == Counter({"item.newKey": 3})


@pytest.mark.parametrize("cleaning", [True, False])
def test_the_normalize_step_gives_each_entry_values_of_its_own(cleaning: bool) -> None:
    """Extraction shares a known element's fields between its entries; the normalize step (first in the chain)
    rebuilds every paper field, cleaning or not (PAPERSET_NORMALIZE_ENABLED=false keeps the values as read)."""
    text = ANSWER.read_text(encoding="utf-8")
    raw = _api(text)[0]
    crawler = project_crawler(PAPERSET_NORMALIZE_ENABLED=cleaning)
    crawler.stats.open_spider()
    step = NormalizePipeline.from_crawler(crawler)
    first, second = step.process_item(_api(text)[0]), step.process_item(_api(text)[0])
    first.authors.append("Someone Else")
    first.submitted_on_daily_by["user"] = "changed"
    third = step.process_item(_api(text)[0])
    assert second == third != first
    assert _api(text)[0] == raw  # extraction's shared fields untouched
    for name in CONTENT_FIELDS:
        if isinstance(getattr(second, name), list | dict):
            assert getattr(second, name) is not getattr(third, name), name
    assert (third.published_at == raw.published_at) is not cleaning  # cleaned: in canonical form


def test_normalize_tells_nan_from_null_through_the_api_path() -> None:
    """orjson writes NaN as null: an answer holding NaN gives no key, so its entry is not taken for the
    same element with null (counted not_a_number once, for the NaN sighting only)."""
    items = json.loads(ANSWER.read_text(encoding="utf-8"))[:1]
    items[0]["paper"]["upvotes"] = None
    nulled = json.dumps(items)
    crawler = project_crawler()
    crawler.stats.open_spider()
    step = NormalizePipeline.from_crawler(crawler)
    for text in (nulled, nulled.replace('"upvotes": null', '"upvotes": NaN'), nulled):
        assert step.process_item(_api(text)[0]).upvotes is None
    assert crawler.stats.get_value("paperset/bad_values/upvotes/not_a_number") == 1

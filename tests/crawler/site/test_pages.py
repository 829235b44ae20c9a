"""Extraction on the real captures, checked against independent scraper output, and its edge cases."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from parsel import Selector

from paperset.crawler.site.pages import (
    HydrationError,
    hydration_props,
    paper_id_from_href,
    parse_cards,
    parse_listing,
    parse_paper_page,
)
from tests.conftest import FIXTURES

LISTING_2024 = FIXTURES / "cases" / "listing_page" / "listing-2024-08-01"
PAPER_PAGE = FIXTURES / "cases" / "paper_page" / "paper-2509.24002-prettified"


def test_real_2024_08_01_listing_gives_its_13_papers_in_page_order() -> None:
    html = (LISTING_2024 / "page.html").read_text(encoding="utf-8")
    expected = json.loads((LISTING_2024 / "independent-ids.json").read_text())
    page = parse_listing(html, url="https://huggingface.co/papers?date=2024-08-01", kind="day", key="2024-08-01")
    assert page.source == "hydration"
    assert page.problems == []
    assert page.page_key == "2024-08-01"
    assert [e.paper_id for e in page.entries] == [row["arxiv_id"] for row in expected]
    # The scraper that wrote the expected file collapsed whitespace in titles; the JSON keeps it.
    assert [" ".join(e.title.split()) for e in page.entries] == [row["title"] for row in expected]
    assert [e.rank for e in page.entries] == list(range(13))


def test_cards_and_hydration_agree_on_the_real_listing() -> None:
    html = (LISTING_2024 / "page.html").read_text(encoding="utf-8")
    from_json = parse_listing(html, url="u", kind="day", key="2024-08-01").entries
    from_cards = parse_cards(Selector(text=html), url="u", kind="day", key="2024-08-01")
    assert [(c.paper_id, c.upvotes, c.num_comments) for c in from_cards] == [
        (j.paper_id, j.upvotes, j.num_comments) for j in from_json
    ]
    assert [c.title for c in from_cards] == [" ".join(j.title.split()) for j in from_json]
    assert all(c.abstract is None for c in from_cards)  # 2024 day cards carry no abstract


def test_prettified_paper_page_single_quoted_props() -> None:
    html = (PAPER_PAGE / "page.html").read_text(encoding="utf-8")
    entry = parse_paper_page(html, url="https://huggingface.co/papers/2509.24002")
    assert (entry.paper_id, entry.upvotes, entry.github_stars, entry.num_comments) == ("2509.24002", 118, 182, 2)
    assert entry.github_repo == "https://github.com/eval-sys/mcpmark"
    assert entry.organization == "NationalUniversityofSingapore"
    assert entry.authors[:2] == ["Zijian Wu", "Xiangyan Liu"] and len(entry.authors) == 15


def test_2025_props_and_search_results() -> None:
    props = {"dateString": "2025-W10", "periodType": "week", "dailyPapers": [],
             "searchResults": [{"title": "T", "paper": {"id": "2501.00001", "title": "T", "summary": "S",
                                                        "upvotes": 3, "organization": {"name": "org"}}}]}
    html = f"<div data-target='DailyPapers' data-props='{json.dumps(props)}'></div>"
    page = parse_listing(html, url="u", kind="search", key="q")
    assert page.page_key == "2025-W10"
    assert [(e.paper_id, e.abstract, e.upvotes, e.organization) for e in page.entries] == [
        ("2501.00001", "S", 3, "org")
    ]


def test_empty_strings_become_none() -> None:
    props = {"date": "2025-01-01T00:00:00.000Z", "dailyPapers": [
        {"paper": {"id": "2501.00001", "title": "T", "summary": "", "githubRepo": "", "authors": []},
         "thumbnail": "", "numComments": 0}]}
    html = f"<div data-target='DailyPapers' data-props='{json.dumps(props)}'></div>"
    entry = parse_listing(html, url="u", kind="day", key="2025-01-01").entries[0]
    assert (entry.abstract, entry.github_repo, entry.authors, entry.thumbnail, entry.num_comments) == (
        None, None, None, None, 0)


def test_unknown_shape_falls_back_to_cards_and_says_so() -> None:
    html = ("<div data-target=\"DailyPapers\" data-props='{\"dailyPapers\": \"oops\"}'></div>"
            "<article><h3><a href='/papers/2501.00002'>A title</a></h3><div class='leading-none'>-</div></article>")
    page = parse_listing(html, url="u", kind="day", key="2025-01-01")
    assert (page.source, page.problems) == ("cards", ["unknown_shape"])
    assert [(e.paper_id, e.title, e.upvotes) for e in page.entries] == [("2501.00002", "A title", None)]


def test_a_page_with_nothing_reports_no_entries() -> None:
    page = parse_listing("<html><body>maintenance</body></html>", url="u", kind="day", key="2025-01-01")
    assert (page.source, page.problems, page.entries) == ("cards", ["no_hydration", "no_entries"], [])


def test_paper_links() -> None:
    assert paper_id_from_href("/papers/2407.21783") == "2407.21783"
    assert paper_id_from_href("https://huggingface.co/papers/2407.21783#community") == "2407.21783"
    assert paper_id_from_href("/papers/date/2024-08-01") is None
    assert paper_id_from_href("/papers/trending") is None
    assert paper_id_from_href(None) is None


def test_missing_paper_props_raise() -> None:
    try:
        parse_paper_page("<html></html>", url="u")
    except HydrationError as exc:
        assert exc.reason == "no_hydration"
    else:
        raise AssertionError("expected HydrationError")


@given(st.text())
def test_extraction_never_raises_on_arbitrary_text(text: str) -> None:
    page = parse_listing(f"<div data-target='DailyPapers' data-props='{text}'></div>{text}",
                         url="u", kind="day", key="k")
    assert page.source in {"hydration", "cards"}
    try:
        hydration_props(Selector(text=f"<p>{text}</p>"), "DailyPapers")
    except HydrationError as exc:
        assert exc.reason == "no_hydration"


def test_an_unreadable_api_answer_is_an_api_error_not_a_page_error() -> None:
    from paperset.crawler.site.pages import ApiAnswerError, ExtractionError, parse_api_listing, parse_api_paper

    reasons = []
    for call in (lambda: parse_api_listing("{not json", url="u", kind="day", key="k"),
                 lambda: parse_api_listing('{"a": 1}', url="u", kind="day", key="k"),
                 lambda: parse_api_paper("[]", url="u")):
        try:
            call()
        except ApiAnswerError as exc:
            assert not isinstance(exc, HydrationError)
            assert isinstance(exc, ExtractionError)
            reasons.append(exc.reason)
    assert reasons == ["bad_json", "unknown_shape", "unknown_shape"]

"""The cleaning pipelines as components (get_crawler): each bad input's outcome, and its rejects line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import good


def test_good_entry_is_normalized(chain) -> None:
    entry = chain(good())
    assert (entry.paper_id, entry.arxiv_version, entry.title, entry.authors) == (
        "2409.12568", 2, "A title", ["Ada Lovelace"])
    assert entry.published_at == "2024-09-19T00:00:00.000+00:00"
    assert entry.paper_key == "2409.12568"
    assert len(entry.content_key) == 20


NEXT_YEAR = f"{datetime.now(UTC).year + 1}-06-01T00:00:00Z"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"title": ""}, "missing_title"),
    ({"title": "\x00\x01  "}, "missing_title"),
    ({"abstract": "x" * 10_000_000}, "abstract_too_long"),
    ({"published_at": "1900-01-01T00:00:00Z"}, "bad_date"),
    ({"published_at": NEXT_YEAR}, "bad_date"),
    ({"upvotes": -1}, "bad_count"),
    ({"num_comments": "-7"}, "bad_count"),
    ({"paper_id": "my-paper"}, "bad_paper_id"),
    ({"paper_id": None, "abstract": None}, "missing_id_and_abstract"),
    ({"title": 12}, "bad_type"),
    ({"title": ["A", "title"]}, "bad_type"),
    ({"abstract": {"text": "An abstract."}}, "bad_type"),
    ({"paper_id": 2409.12568}, "bad_type"),
])
def test_bad_input_is_rejected_with_a_reason_and_a_rejects_line(chain, changes, reason) -> None:
    assert chain(good(**changes)) == reason
    rejects = chain.rejects()
    assert [r["reason"] for r in rejects] == [reason]
    assert rejects[0]["source_url"] == "http://127.0.0.1/papers/date/2024-09-20"
    assert rejects[0]["entry"]["listing_key"] == "2024-09-20"
    assert chain.crawler.stats.get_value(f"paperset/dropped/{reason}") == 1


def test_the_10mb_abstract_is_kept_whole_in_the_rejects_file(chain) -> None:
    chain(good(abstract="word " * 2_000_000))
    assert len(chain.rejects()[0]["entry"]["abstract"]) == len("word " * 2_000_000) - 1


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"title": "NUL\x00 in\x0b title\x7f"}, "title", "NUL in title"),
    ({"abstract": "lone \udc80surrogate"}, "abstract", "lone surrogate"),
])
def test_control_characters_and_surrogates_are_removed_and_counted(chain, changes, field, value) -> None:
    entry = chain(good(**changes))
    assert getattr(entry, field) == value
    assert chain.crawler.stats.get_value("paperset/repaired/control_chars") == 1


def test_id_less_entries_get_a_content_key_and_repeats_are_counted(chain) -> None:
    first = chain(good(paper_id=None, title="Same  Title"))
    second = chain(good(paper_id=None, title="same title"))
    assert first.paper_key == second.paper_key == f"ck:{first.content_key}"
    assert chain.crawler.stats.get_value("paperset/dedupe/new") == 1
    assert chain.crawler.stats.get_value("paperset/dedupe/repeat") == 1


def test_bad_link_becomes_none_and_is_counted(chain) -> None:
    entry = chain(good(project_page="not a url", github_repo="http://github.com/a/b?utm_source=hf"))
    assert (entry.project_page, entry.github_repo) == (None, "https://github.com/a/b")
    assert chain.crawler.stats.get_value("paperset/repaired/bad_url") == 1


def test_a_known_papers_author_list_is_cleaned_once_but_each_entry_gets_its_own_list(chain) -> None:
    """The list cache hands every entry a fresh list, and counts dirty lists on every sighting."""
    authors = [" Ada\x00 Lovelace ", "", "Alan  Turing", "Ada\x00 Lovelace"]
    first, second = chain(good(authors=list(authors))), chain(good(authors=list(authors)))
    assert first.authors == second.authors == ["Ada Lovelace", "Alan Turing", "Ada Lovelace"]
    assert first.authors is not second.authors
    first.authors.append("changed")
    assert chain(good(authors=list(authors))).authors == ["Ada Lovelace", "Alan Turing", "Ada Lovelace"]
    assert chain.crawler.stats.get_value("paperset/repaired/control_chars") == 3
    assert chain(good(authors=["", " "])).authors is None


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("upvotes", True, "bool"),
    ("num_comments", 3.5, "fraction"),
    ("num_comments", "3.5", "fraction"),
    ("github_stars", "many", "not_a_number"),
    ("upvotes", float("nan"), "not_a_number"),
    ("upvotes", [3], "not_a_number"),
    ("authors", "Ada Lovelace, Alan Turing", "not_a_list"),
    ("authors", ["Ada", 7], "not_text"),
    ("ai_keywords", {"a": 1}, "not_a_list"),
    ("organization", ["Org A", "Org B"], "not_text"),
    ("ai_summary", 5, "not_text"),
    ("published_at", "last tuesday", "not_a_date"),
    ("submitted_on_daily_at", 1727000000, "not_a_date"),
    ("project_page", ["https://a.example"], "not_a_url"),
])
def test_a_value_that_does_not_convert_without_loss_is_kept_null_and_counted(chain, field, value, reason) -> None:
    entry = chain(good(**{field: value}))
    assert getattr(entry, field) is None and entry.title == "A title"
    stats = chain.crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("paperset/bad_values/")} == \
        {f"paperset/bad_values/{field}/{reason}": 1}


@pytest.mark.parametrize(("changes", "reason", "problem"), [
    ({"title": 12}, "bad_type", "title/not_text"),
    ({"paper_id": ["2409.12568"]}, "bad_type", "paper_id/not_text"),
    ({"abstract": 3.5}, "bad_type", "abstract/not_text"),
    ({"upvotes": -3}, "bad_count", "upvotes/negative"),
    ({"published_at": "1900-01-01T00:00:00Z"}, "bad_date", "published_at/out_of_range"),
])
def test_a_rejected_value_is_counted_by_field_too(chain, changes, reason, problem) -> None:
    assert chain(good(**changes)) == reason
    stats = chain.crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("paperset/bad_values/")} == \
        {f"paperset/bad_values/{problem}": 1}


@pytest.mark.parametrize(("field", "value", "converted"), [
    ("upvotes", "12", 12), ("upvotes", 12.0, 12), ("num_comments", " 1,234 ", 1234), ("github_stars", 0, 0),
])
def test_a_value_that_converts_without_loss_is_converted_and_not_counted(chain, field, value, converted) -> None:
    entry = chain(good(**{field: value}))
    assert getattr(entry, field) == converted and type(getattr(entry, field)) is int
    assert not [k for k in chain.crawler.stats.get_stats() if k.startswith("paperset/bad_values/")]


def test_card_counts_that_are_not_numbers_are_kept_null_and_counted(chain) -> None:
    """The cards path meets the same policy: a card's count text converts only when it is a count."""
    import re

    from parsel import Selector

    from paperset.crawler.site.pages import parse_cards
    from tests.conftest import FIXTURES

    page = (FIXTURES / "cases/listing_page/listing-2024-08-01-no-hydration/page.html").read_text(encoding="utf-8")
    page = page.replace('leading-none">94<', 'leading-none">9.4<', 1)
    page = re.sub(r'(#community".*?</svg>)\s*5\s*<', r"\1five<", page, count=1, flags=re.S)
    first, second = parse_cards(Selector(text=page), url="https://huggingface.co/papers?date=2024-08-01",
                                kind="day", key="2024-08-01")[:2]
    assert (first.upvotes, first.num_comments, second.upvotes) == ("9.4", "five", 24)
    entry = chain(first)
    assert (entry.upvotes, entry.num_comments, entry.title) == (None, None, "The Llama 3 Herd of Models")
    stats = chain.crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("paperset/bad_values/")} == {
        "paperset/bad_values/num_comments/not_a_number": 1, "paperset/bad_values/upvotes/fraction": 1}

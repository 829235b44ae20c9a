"""The cleaning pipelines as components (get_crawler): each bad input's outcome, and its rejects line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ..conftest import good


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
    ({"published_at": "last tuesday"}, "bad_date"),
    ({"upvotes": -1}, "bad_count"),
    ({"num_comments": "7"}, "bad_count"),
    ({"paper_id": "my-paper"}, "bad_paper_id"),
    ({"paper_id": None, "abstract": None}, "missing_id_and_abstract"),
    ({"title": 12}, "bad_type"),
    ({"authors": "Ada Lovelace"}, "bad_type"),
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
    assert chain(good(authors=["Ada", 7])) == "bad_type"  # not all text: left as it is for validation

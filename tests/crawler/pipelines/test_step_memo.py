"""The cleaning steps remember what they made of a paper's fields (StepMemo): a paper seen again on another
listing gets the same result, its own copy of every value, every count and rejection again, and the checks
of where and when it was seen run on every sighting."""

from __future__ import annotations

import pytest

from paperset.crawler.clean.fields import (
    BOOL_FIELDS,
    CONTENT_FIELDS,
    CONVERSIONS,
    DATE_FIELDS,
    LIST_FIELDS,
    NESTED_FIELDS,
    SIGHTING_DATES,
    TEXT_FIELDS,
    URL_FIELDS,
)
from tests.conftest import good

USER = {"id": "u1", "user": " ada ", "fullname": "Ada\x00 Lovelace", "avatar_url": "/a.png", "is_pro": "yes"}  # shaped


def test_every_field_normalizing_changes_is_a_content_field_or_a_sighting_date() -> None:
    touched = {name for name, _, _ in CONVERSIONS} | set(TEXT_FIELDS) | set(LIST_FIELDS) | set(URL_FIELDS) \
        | set(DATE_FIELDS) | set(BOOL_FIELDS) | {name for name, _ in NESTED_FIELDS} | {"paper_id", "arxiv_version"}
    assert touched - set(CONTENT_FIELDS) == set(SIGHTING_DATES) == {"crawled_at"}


def test_a_paper_seen_again_is_normalized_alike_counted_again_and_given_its_own_values(chain) -> None:
    def seen(rank: int):
        return chain(good(title="A\x00  title", project_page="not a url", submitted_on_daily_by=dict(USER),
                          rank=rank, listing_key=f"2024-09-{20 + rank}", crawled_at=f"2024-09-2{rank}T10:00:00Z"))

    first, second = seen(0), seen(1)
    for name in CONTENT_FIELDS:
        assert getattr(first, name) == getattr(second, name), name
    assert (second.title, second.project_page, second.arxiv_version) == ("A title", None, 2)
    assert second.submitted_on_daily_by == {"id": "u1", "user": "ada", "fullname": "Ada Lovelace",
                                            "avatar_url": "/a.png"}
    assert first.submitted_on_daily_by is not second.submitted_on_daily_by
    assert first.authors is not second.authors
    # the sighting's own fields stay its own
    assert (second.rank, second.listing_key, second.crawled_at) == (1, "2024-09-21", "2024-09-21T10:00:00.000+00:00")
    stats = chain.crawler.stats
    assert stats.get_value("paperset/repaired/control_chars") == 2
    assert stats.get_value("paperset/repaired/bad_url") == 2
    assert stats.get_value("paperset/bad_values/submitted_on_daily_by.is_pro/not_a_bool") == 2


def test_a_rejected_paper_is_rejected_again_with_its_reason_and_a_rejects_line_each_time(chain) -> None:
    assert chain(good(title=12)) == chain(good(title=12, rank=5)) == "bad_type"
    assert [(r["reason"], r["entry"]["rank"]) for r in chain.rejects()] == [("bad_type", 0), ("bad_type", 5)]
    assert chain.crawler.stats.get_value("paperset/dropped/bad_type") == 2


def test_nan_and_none_are_not_taken_for_each_other(chain) -> None:
    """orjson writes NaN as null: the memo compares the values themselves."""
    assert chain(good(upvotes=float("nan"))).upvotes is None
    assert chain(good(upvotes=None)).upvotes is None
    assert chain(good(upvotes=float("nan"))).upvotes is None
    assert chain.crawler.stats.get_value("paperset/bad_values/upvotes/not_a_number") == 2


def test_1_and_true_and_1_0_are_different_values(chain) -> None:
    assert chain(good(upvotes=1)).upvotes == 1
    assert chain(good(upvotes=True)).upvotes is None
    assert chain(good(upvotes=1.0)).upvotes == 1
    assert chain.crawler.stats.get_value("paperset/bad_values/upvotes/bool") == 1


def test_a_paper_that_passed_is_still_checked_for_where_and_when_it_was_seen(chain) -> None:
    assert chain(good()).paper_id == "2409.12568"
    assert chain(good(rank=-1)) == "bad_count"
    assert chain(good(crawled_at="1900-01-01T00:00:00Z")) == "bad_date"
    assert chain(good(rank=3)).rank == 3
    assert [r["reason"] for r in chain.rejects()] == ["bad_count", "bad_date"]


@pytest.mark.parametrize("changes", [
    {"upvotes": 3.0}, {"upvotes": float("inf")}, {"num_comments": "12"}, {"github_stars": 2**70},
    {"abstract": "lone \udc80surrogate"}, {"authors": ["Ada", 7]}, {"ai_keywords": ("a", "b")},
    {"submitted_on_daily_by": {"id": "u1", "follower_count": 2.5, "is_hf": 1}},
])
def test_a_remembered_outcome_is_the_one_computed(chain, changes) -> None:
    """What a sighting is given from the memo is what normalizing would give it: same values, same types."""
    first, second = chain(good(**changes)), chain(good(**changes))
    if isinstance(first, str):  # rejected (an integer past 64 bits): rejected again
        assert (first, second) == ("out_of_range", "out_of_range") and "github_stars" in changes
        return
    for name in CONTENT_FIELDS:
        one, other = getattr(first, name), getattr(second, name)
        assert (one, type(one)) == (other, type(other)), name


def test_two_problems_give_the_reason_the_rules_name_first_on_any_sighting(chain) -> None:
    """The first problem in check_entry's order (the schema's fields in table order, then the dates), whether
    the paper's fields were remembered as passed or not."""
    late = "2099-01-01T00:00:00Z"
    assert chain(good(daily_paper_rank=-1, published_at=late)) == "bad_count"
    assert chain(good()).paper_id == "2409.12568"  # the paper's fields pass: remembered
    assert chain(good(daily_paper_rank=-1, crawled_at="1900-01-01T00:00:00Z")) == "bad_count"
    assert [r["reason"] for r in chain.rejects()] == ["bad_count"] * 2
    assert chain.crawler.stats.get_value("paperset/bad_values/daily_paper_rank/negative") == 2


def test_an_item_other_than_our_dataclass_gets_no_field_it_did_not_have() -> None:
    from paperset.crawler.pipelines.normalize import NormalizePipeline

    class Stats:
        def inc_value(self, name: str) -> None:
            pass

    item = {"title": " A  title ", "paper_id": "2409.12568v2", "abstract": "An abstract.", "rank": 0}
    out = NormalizePipeline(Stats()).process_item(item)  # type: ignore[arg-type]
    assert (out["title"], out["paper_id"], out["arxiv_version"]) == ("A title", "2409.12568", 2)
    assert not {"upvotes", "published_at", "submitted_by", "author_details"} & set(out)


def test_what_the_crawl_remembered_is_let_go_when_it_closes() -> None:
    """Scrapy closes the pipelines (close_spider), and the spider its extraction (forget_items): ~20 KB a paper
    remembered is not carried through the packaging."""
    import asyncio

    from scrapy.pipelines import ItemPipelineManager

    from paperset.crawler.pipelines.normalize import NormalizePipeline
    from paperset.crawler.pipelines.validate import ValidatePipeline
    from paperset.crawler.site import source
    from paperset.crawler.site.pages import parse_api_listing
    from tests.conftest import FIXTURES, project_crawler

    crawler = project_crawler()
    crawler.stats.open_spider()
    steps = NormalizePipeline.from_crawler(crawler), ValidatePipeline.from_crawler(crawler)
    text = (FIXTURES / "cases" / "api_listing" / "day-2025-05-15" / "answer.json").read_text(encoding="utf-8")
    for entry in parse_api_listing(text, url="u", kind="day", key="2025-05-15"):
        steps[1].process_item(steps[0].process_item(entry))
    assert (len(steps[0].memo.kept), len(steps[1].passed.kept)) == (3, 3)
    assert all(e.source_json in source._read for e in parse_api_listing(text, url="u", kind="day", key="k"))
    asyncio.run(ItemPipelineManager(*steps, crawler=crawler).close_spider_async())
    source.forget_items()
    assert (len(steps[0].memo.kept), len(steps[1].passed.kept), len(source._read)) == (0, 0, 0)

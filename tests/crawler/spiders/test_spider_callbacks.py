"""The spider's callbacks alone (no engine, no network): a response built from a fixture case goes in, and
exactly these items and requests come out, with the listing settled as the coverage report will say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from paperset.crawler.site.fixture_cases import CRAWL_ONLY_FIELDS
from paperset.crawler.site.items import EntryBatch, PaperEntry
from paperset.crawler.site.listings import Listing
from paperset.crawler.spiders.hf_papers import HfPapersSpider
from paperset.crawler.tracking.coverage import COMPLETE, EMPTY, INCOMPLETE, SETTLED
from tests.conftest import FIXTURES, project_settings_dict
from tests.fixture_cases import FixtureCase

SITE = "https://huggingface.co"


def case(extractor: str, name: str) -> FixtureCase:
    return FixtureCase.load(FIXTURES / "cases" / extractor / name)


def make_spider(tmp_path: Path, **settings: Any) -> HfPapersSpider:
    """The spider of a crawler built with the project's settings (so every extension the project has, the
    progress ledger included, is there), its base URL the real site's, as the fixture URLs are."""
    values = project_settings_dict(PAPERSET_REJECTS=str(tmp_path / "r.jsonl"), PAPERSET_BASE_URL=SITE, **settings)
    crawler = get_crawler(HfPapersSpider, values)
    spider = HfPapersSpider.from_crawler(crawler, day="2025-05-15")
    crawler.spider = spider
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return spider


def respond(request: Request, fixture: FixtureCase, cls: type[TextResponse] = TextResponse,
            same_url: bool = True) -> TextResponse:
    if same_url:
        assert request.url == fixture.meta["url"], "the spider asks for the URL the case was saved from"
    return cls(url=request.url, status=200, body=fixture.input.encode("utf-8"), encoding="utf-8",
               request=request, headers={"Content-Type": fixture.meta["headers"]["content-type"]})


def call(spider: HfPapersSpider, request: Request, response: TextResponse) -> list[Any]:
    """The callback's output, its batch of entries (one at most, each a PaperEntry) opened in place."""
    callback = getattr(spider, request.callback.__name__)
    out: list[Any] = []
    batches = 0
    for item in callback(response, **request.cb_kwargs):
        if type(item) is EntryBatch:
            batches += 1
            assert item.entries, "no batch without entries"
            out.extend(item.entries)
        else:
            out.append(item)
    assert batches <= 1, "a response's entries come as one batch"
    return out


def as_expected(entries: list[Any]) -> list[dict[str, Any]]:
    """The entries in expected.json's shape (without the fields the spider fills)."""
    out = []
    for entry in entries:
        data = entry.to_dict()
        for name in CRAWL_ONLY_FIELDS:
            data.pop(name, None)
        out.append(data)
    return out


def stat(spider: HfPapersSpider, key: str) -> Any:
    assert spider.crawler.stats is not None
    return spider.crawler.stats.get_value(key)


def test_the_api_listing_callback_gives_the_answer_entries_and_settles_the_day(tmp_path) -> None:
    spider = make_spider(tmp_path)
    fixture = case("api_listing", "day-2025-05-15")
    [request] = spider.seed_requests()
    assert request.callback == spider.parse_api
    assert request.cb_kwargs == {"listing": Listing("day", "2025-05-15"), "page": 0}
    out = call(spider, request, respond(request, fixture))
    assert all(isinstance(e, PaperEntry) for e in out)
    assert as_expected(out) == fixture.expected()["entries"]
    assert {(e.fetch_path, e.crawled_at is not None) for e in out} == {("api", True)}
    assert request.meta[SETTLED] == ["day", "2025-05-15", COMPLETE, None]
    assert stat(spider, "paperset/fetch/api") == 1


def test_a_full_api_page_asks_for_the_next_page(tmp_path) -> None:
    spider = make_spider(tmp_path, PAPERSET_API_PAGE_SIZE=3)
    fixture = case("api_listing", "day-2025-05-15")
    request = spider.api_request(Listing("day", "2025-05-15"), 0)
    assert request.url == f"{SITE}/api/daily_papers?date=2025-05-15&limit=3&p=0"
    # The day's 3 items (saved with limit=50) are also its whole first page of 3: a full page.
    out = call(spider, request, respond(request, fixture, same_url=False))
    *entries, follow = out
    assert as_expected(entries) == [{**e, "source_url": request.url} for e in fixture.expected()["entries"]]
    assert isinstance(follow, Request)
    assert follow.url == f"{SITE}/api/daily_papers?date=2025-05-15&limit=3&p=1"
    assert (follow.callback, follow.errback) == (spider.parse_api, spider.api_failed)
    assert follow.cb_kwargs == {"listing": Listing("day", "2025-05-15"), "page": 1}
    assert SETTLED not in request.meta, "a listing with more pages is not settled yet"


def test_a_later_api_page_ranks_from_its_offset_and_goes_on(tmp_path) -> None:
    spider = make_spider(tmp_path, PAPERSET_API_PAGE_SIZE=1)
    fixture = case("api_listing", "day-2025-02-13-page-14-few-fields")
    request = spider.api_request(Listing("day", "2025-02-13"), 14)
    [entry, follow] = call(spider, request, respond(request, fixture))
    assert as_expected([entry]) == fixture.expected()["entries"] and entry.rank == 14
    assert follow.url == f"{SITE}/api/daily_papers?date=2025-02-13&limit=1&p=15"
    assert stat(spider, "paperset/fetch/api") is None, "only a listing's first page counts its fetch path"


def test_an_empty_api_day_is_settled_empty_with_no_papers(tmp_path) -> None:
    spider = make_spider(tmp_path)
    request = spider.api_request(Listing("day", "2025-02-15"), 0)
    assert call(spider, request, respond(request, case("api_listing", "day-2025-02-15-no-papers"))) == []
    assert request.meta[SETTLED] == ["day", "2025-02-15", EMPTY, "no_papers"]
    assert stat(spider, "paperset/listings/no_papers") == 1


def test_a_non_json_api_answer_falls_back_to_the_listing_page(tmp_path) -> None:
    spider = make_spider(tmp_path)
    request = spider.api_request(Listing("day", "2025-05-15"), 0)
    [fallback] = call(spider, request, respond(request, case("api_listing", "day-2025-05-15-cut-json")))
    assert fallback.url == f"{SITE}/papers/date/2025-05-15"
    assert (fallback.callback, fallback.errback) == (spider.parse_page, spider.request_failed)
    assert fallback.cb_kwargs == {"listing": Listing("day", "2025-05-15")}
    assert stat(spider, "paperset/api/bad_json") == 1
    assert SETTLED not in request.meta


@pytest.mark.parametrize(("name", "reason"), [("day-2025-05-15-cut-json", "bad_json"),
                                              ("not-found-object", "unknown_shape")])
def test_a_bad_api_answer_with_fetch_api_settles_the_listing_incomplete(tmp_path, name, reason) -> None:
    spider = make_spider(tmp_path, PAPERSET_FETCH="api")
    request = spider.api_request(Listing("day", "2025-05-15"), 0)
    assert call(spider, request, respond(request, case("api_listing", name))) == []
    assert request.meta[SETTLED] == ["day", "2025-05-15", INCOMPLETE, f"api: {reason}"]
    assert stat(spider, f"paperset/api/{reason}") == 1


def test_the_listing_page_callback_gives_the_page_entries(tmp_path) -> None:
    spider = make_spider(tmp_path, PAPERSET_FETCH="page")
    fixture = case("listing_page", "listing-2025-03-03")
    [request] = [spider.first_request(Listing("day", "2025-03-03"))]
    assert request.callback == spider.parse_page
    out = call(spider, request, respond(request, fixture, HtmlResponse))
    assert as_expected(out) == fixture.expected()["entries"] and len(out) == 7
    assert {e.fetch_path for e in out} == {"page"}
    assert request.meta[SETTLED] == ["day", "2025-03-03", COMPLETE, None]
    source = fixture.expected()["source"]
    assert (stat(spider, "paperset/fetch/page"), stat(spider, f"paperset/listings/{source}")) == (1, 1)


@pytest.mark.parametrize(("extractor", "name", "api"), [("paper_page", "paper-2509.24002-prettified", False),
                                                        ("api_paper", "2510.02297-all-fields", True)])
def test_the_paper_callback_gives_the_paper(tmp_path, extractor, name, api) -> None:
    spider = make_spider(tmp_path)
    fixture = case(extractor, name)
    paper_id = fixture.expected()["entries"][0]["paper_id"]
    request = spider.detail_request(paper_id, page=not api)
    assert request.cb_kwargs == {"paper_id": paper_id, "api": api}
    [entry] = call(spider, request, respond(request, fixture, HtmlResponse if not api else TextResponse))
    assert as_expected([entry]) == fixture.expected()["entries"]
    assert entry.fetch_path == ("api" if api else "page")
    assert stat(spider, f"paperset/details/{'api' if api else 'page'}") == 1


def test_a_bad_api_paper_answer_asks_for_the_paper_page(tmp_path) -> None:
    spider = make_spider(tmp_path)
    request = spider.detail_request("2502.07985")
    fixture = case("api_paper", "2502.07985-few-fields")
    broken = TextResponse(url=request.url, status=200, body=b"<html>busy</html>", encoding="utf-8",
                          request=request)
    [page] = call(spider, request, broken)
    assert page.url == f"{SITE}/papers/2502.07985"
    assert page.cb_kwargs == {"paper_id": "2502.07985", "api": False}
    assert stat(spider, "paperset/details/bad_json") == 1
    assert fixture.meta["url"] == request.url

"""The registry of listing kinds (paperset/crawler/site/kinds.py): every reader takes a kind from it, so a new kind is a
row there. The trial: `submitter` (`/api/daily_papers?submitter=NAME`) added to the registry alone reaches
the command line, the job, the spider, the plan, coverage, the replica's router and the fixture cases."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pyarrow.parquet as pq
import pytest
from scrapy.settings import Settings

from paperset.app.plan import make_plan
from paperset.cli import build_parser, main
from paperset.cli.args import crawl_job
from paperset.crawler.replica.server import ReplicaServer
from paperset.crawler.settings import __name__ as SETTINGS_MODULE
from paperset.crawler.site.fixture_cases import meta_for_url
from paperset.crawler.site.kinds import (
    DAILY_API,
    FLAGS,
    KINDS,
    Flag,
    Kind,
    daily_api_kinds,
    daily_kinds,
    nothing_to_crawl,
    page_segments,
)
from paperset.crawler.site.listings import Listing, plan_listings
from paperset.crawler.spiders.hf_papers import HfPapersSpider
from paperset.crawler.tracking.coverage import EMPTY, Answer, judge
from paperset.spool.writer import SpoolWriter

SUBMITTER = Kind("submitter", ("/papers/submitter/{key}",), f"{DAILY_API}?submitter={{key}}", 7,
                 empty="no_papers", sort=True)
SUBMITTER_FLAG = Flag("submitter", "submitter", "papers one user submitted (repeatable)",
                      lambda v: [v.strip()], "NAME")


@pytest.fixture
def submitter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The new kind's two rows, added for the test and taken out after."""
    monkeypatch.setitem(KINDS, "submitter", SUBMITTER)
    FLAGS.append(SUBMITTER_FLAG)
    try:
        yield
    finally:
        FLAGS.remove(SUBMITTER_FLAG)


def test_the_registry_derives_the_routes_of_todays_kinds() -> None:
    assert daily_api_kinds() == {"date": "day", "week": "week", "month": "month"}
    assert page_segments() == {"date": "day", "week": "week", "month": "month"}
    assert nothing_to_crawl() == ("nothing to crawl: give --day, --week, --month, --range, --search, --trending or "
                                  "--all-papers")
    assert Listing("search", "a b").page_path() == "/papers?q=a%20b"
    assert Listing("day", "2025-03-05").shown_at("https://h/papers?date=2025-03-05")
    assert not Listing("day", "2025-03-05").shown_at("https://h/papers/date/2025-03-06")
    assert Listing("trending", "trending").shown_at("https://h/papers/trending/")


def test_a_new_kind_is_one_row_of_kinds_and_one_of_flags(submitter: None) -> None:
    args = build_parser().parse_args(["run", "--submitter", "alice", "--submitter", "bob,carol", "--out", "d"])
    job = crawl_job(args, None)
    assert job.asked == {"submitter": ["alice", "bob,carol"]}
    assert job.listings() == [Listing("submitter", k) for k in ("alice", "bob", "carol")]
    assert job.spider_kwargs() == {"submitter": "alice,bob,carol"}
    spider = HfPapersSpider(**job.spider_kwargs())
    assert spider.listings == job.listings()
    assert spider.listings[0].api_page_path(50, 0) == "/api/daily_papers?submitter=alice&limit=50&p=0"
    assert "--submitter" in nothing_to_crawl()
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE)
    plan = make_plan(plan_listings(submitter="alice"), settings, fetch="api", base_url="http://h")
    assert [r["url"] for r in plan["requests"]] == [f"http://h/api/daily_papers?submitter=alice&limit={n}&p=0"
                                                  for n in [settings.getint("PAPERSET_API_PAGE_SIZE")]]
    assert judge(Listing("submitter", "nobody"), Answer(asked="u", api=True)) == (EMPTY, "no_papers")
    assert meta_for_url("https://h/api/daily_papers?submitter=alice&limit=2&p=1") == (
        "api_listing", {"listing_kind": "submitter", "listing_key": "alice", "offset": 2})
    assert meta_for_url("https://h/papers/submitter/alice")[1]["listing_kind"] == "submitter"


def test_the_replica_routes_a_new_kind_by_the_registry(submitter: None) -> None:
    with ReplicaServer() as server:
        day = server.index["days"][0]
        server.site.listings["submitter", "alice"] = server.site.listings["day", day][:2]
        path = Listing("submitter", "alice").api_page_path(50, 0)
        with urlopen(server.base_url + path, timeout=10) as answer:  # noqa: S310 - loopback replica
            ids = [item["paper"]["id"] for item in json.loads(answer.read())]
        with urlopen(server.base_url + Listing("submitter", "alice").page_path(), timeout=10) as page:  # noqa: S310
            assert page.url.endswith("/papers/submitter/alice")
    assert ids == [row["paper"]["id"] for row in server.site.listings["day", day][:2]]
    assert len(ids) == 2


def submitter_spool(folder: Path) -> Path:
    """A finished spool of three papers seen only on the listing `submitter alice`."""
    writer = SpoolWriter(folder, {"run_id": folder.name, "base_url": "http://127.0.0.1", "listings": []})
    for n in range(3):
        writer.write({"paper_key": f"2501.0000{n}", "paper_id": f"2501.0000{n}", "title": f"Paper {n}",
                      "abstract": f"Abstract {n}", "authors": ["A. Author"], "published_at": "2025-01-02T00:00:00Z",
                      "upvotes": n, "num_comments": 0, "listing_kind": "submitter", "listing_key": "alice",
                      "rank": n, "crawled_at": "2025-01-03T12:00:00+00:00", "fetch_path": "api"})
    writer.close({"paperset/fetch/api": 1})
    return folder


@pytest.mark.parametrize("daily", [True, False])
def test_a_kind_the_registry_calls_daily_makes_its_papers_daily_in_the_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, daily: bool) -> None:
    # The registry row alone: the application (`paperset package`) hands the packager the daily kinds.
    monkeypatch.setitem(KINDS, "submitter", dataclasses.replace(SUBMITTER, daily=daily))
    assert daily_kinds() == ("day", "week", "month", "trending", *(["submitter"] if daily else []))
    assert main(["package", "--spool", str(submitter_spool(tmp_path / "spool")), "--out", str(tmp_path / "out"),
                 "--name", "ds"]) == 0
    version = next(p for p in (tmp_path / "out" / "ds").iterdir() if p.name[0].isdigit())
    papers = pq.read_table(version / "papers", columns=["paper_key", "population"]).sort_by("paper_key")
    assert papers.to_pylist() == [{"paper_key": f"2501.0000{n}", "population": "daily" if daily else "indexed_only"}
                                  for n in range(3)]
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["daily_kinds"] == list(daily_kinds())
    card = (version / "README.md").read_text(encoding="utf-8")
    named = "day, week, month, trending or submitter" if daily else "day, week, month or trending"
    assert f"`population`: daily (seen on a {named} listing, or with a submittedOnDailyAt)" in card

"""The links callbacks alone (paperset/crawler/spiders/links.py): a 2026-shaped `/api/papers/ID` answer goes in,
exactly the links record and the chain requests come out; answers without the link fields, malformed
pages and a spent call cap leave the paper unknown, settled incomplete, never 0 links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from paperset.crawler.site.listings import Listing
from paperset.crawler.spiders.hf_papers import HfPapersSpider
from paperset.crawler.tracking.coverage import INCOMPLETE
from tests.conftest import project_settings_dict

SITE = "https://huggingface.co"
PAPER = "2407.21783"
MODEL = {"id": "meta-llama/Llama-3.1-8B", "author": "meta-llama", "likes": 5000, "downloads": 900000,
         "lastModified": "2026-05-01T00:00:00.000Z", "pipeline_tag": "text-generation", "gated": True,
         "private": False, "numParameters": 8030261248}
SPACE = {"id": "u/chat", "emoji": "🦙", "running": True, "shortDescription": "chat"}


def spider(tmp_path: Path, **settings: Any) -> HfPapersSpider:
    values = project_settings_dict(PAPERSET_REJECTS=str(tmp_path / "r.jsonl"), PAPERSET_BASE_URL=SITE,
                                   PAPERSET_LINKS_OUT=str(tmp_path / "links.jsonl"), **settings)
    crawler = get_crawler(HfPapersSpider, values)
    made = HfPapersSpider.from_crawler(crawler, day="2025-05-15", links=True)
    crawler.spider = made
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return made


def answer(spider: HfPapersSpider, body: Any, status: int = 200, headers: dict | None = None,
           request: Any = None) -> list[Any]:
    request = request or spider.links_paper_request(PAPER)
    response = TextResponse(url=request.url, status=status, body=json.dumps(body).encode(), encoding="utf-8",
                            request=request, headers=headers or {})
    return list(getattr(spider, request.callback.__name__)(response, **request.cb_kwargs))


def records(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "links.jsonl").read_text(encoding="utf-8").splitlines()]


def test_previews_shorter_than_totals_ask_their_listings(tmp_path: Path) -> None:
    s = spider(tmp_path)
    body = {"id": PAPER, "title": "The Llama 3 Herd of Models", "linkedModels": [MODEL], "linkedDatasets": [],
            "linkedSpaces": [SPACE], "numTotalModels": 72, "numTotalDatasets": 0, "numTotalSpaces": 1}
    out = answer(s, body)
    assert [r.url for r in out] == [f"{SITE}/api/models?filter=arxiv:{PAPER}&limit=100",
                                    f"{SITE}/api/collections?item=papers/{PAPER}&limit=100"]
    s.links_close()
    (record,) = records(tmp_path)
    assert {k: record[k] for k in ("part", "totals", "chains", "items")} == {
        "part": "paper", "totals": {"models": 72, "datasets": 0, "spaces": 1}, "chains": ["models", "collections"],
        "items": {"models": [{"id": MODEL["id"], "likes": 5000, "downloads": 900000}], "datasets": [],
                  "spaces": [{"id": "u/chat", "likes": None, "downloads": None}]}}
    nxt = answer(s, [MODEL], headers={"Link": f'<{SITE}/api/models?filter=arxiv:{PAPER}&cursor=abc>; rel="next"'},
                 request=out[0])
    assert [r.url for r in nxt] == [f"{SITE}/api/models?filter=arxiv:{PAPER}&cursor=abc"]
    assert answer(s, [MODEL], request=nxt[0]) == []
    s.links_close()
    assert [(r["part"], r.get("last")) for r in records(tmp_path)] == [("paper", None), ("models", False),
                                                                       ("models", True)]


def test_unknown_never_zero(tmp_path: Path) -> None:
    s = spider(tmp_path, PAPERSET_LINKS_MAX_CALLS=3)
    assert answer(s, {"id": PAPER, "title": "no link fields"}) == []
    page = s.link_page_request(PAPER, "spaces")
    assert answer(s, {"error": "not a list"}, request=page) == []
    big = {"id": PAPER, "linkedModels": [], "linkedDatasets": [], "linkedSpaces": [], "numTotalModels": 9,
           "numTotalDatasets": 9, "numTotalSpaces": 9}
    assert answer(s, big) == []
    s.links_close()
    assert [(r["part"], r.get("reason")) for r in records(tmp_path)] == [
        ("failed", "no_links_fields"), ("failed", "bad_json"), ("failed", "links_budget")]
    assert s.coverage.outcomes[Listing("links", PAPER)] == (INCOMPLETE, "links: links_budget")
    stats = s.crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("paperset/links/failed")} == {
        "paperset/links/failed": 3, "paperset/links/failed/no_links_fields": 1, "paperset/links/failed/bad_json": 1,
        "paperset/links/failed/links_budget": 1}

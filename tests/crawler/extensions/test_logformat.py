"""The log formatter makes no per-item or per-response DEBUG record unless LOG_LEVEL is DEBUG."""

from __future__ import annotations

import logging

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from paperset.crawler.extensions.logformat import QuietLogFormatter
from paperset.crawler.site.items import PaperEntry
from paperset.crawler.spiders.hf_papers import HfPapersSpider
from tests.conftest import project_crawler


@pytest.mark.parametrize(("level", "quiet"), [("INFO", True), ("WARNING", True), ("DEBUG", False)])
def test_scraped_and_crawled_records_only_at_debug(level: str, quiet: bool) -> None:
    crawler = project_crawler(HfPapersSpider, LOG_LEVEL=level, PAPERSET_BASE_URL="http://127.0.0.1")
    formatter = QuietLogFormatter.from_crawler(crawler)
    spider = HfPapersSpider.from_crawler(crawler, day="2025-02-03")
    response = HtmlResponse("http://127.0.0.1/x", body=b"", request=Request("http://127.0.0.1/x"))
    scraped = formatter.scraped(PaperEntry(title="t"), response, spider)
    crawled = formatter.crawled(response.request, response, spider)
    if quiet:
        assert (scraped, crawled) == (None, None)
    else:
        assert scraped["level"] == crawled["level"] == logging.DEBUG
    dropped = formatter.dropped(PaperEntry(), Exception("x"), response, spider)
    assert dropped["level"] == logging.WARNING

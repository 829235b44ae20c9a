"""Replay: a crawl answered from web archives, with no network. `ReplayDownloadHandler` takes the place of
the http and https download handlers (the add-on puts it there when `PAPERSET_REPLAY` names archives), so
every downloader middleware (robots.txt, retries, decompression, redirects) acts on a recorded response as
on a live one (what Chromium fetched while rendering a page is in the archive, but not replayed: the
rendered page is). A request is looked up by method, URL (redacted as recorded), request body and whether
it asked for the browser; a URL answered several times (a retried 500, a page asked again) is answered in
the recorded order, its last answer repeated after that; a request several archives answered gets the last
archive's answers (a resumed run's second crawl asked again what its first had not finished). A request
no archive answers fails (`NotInArchive`, reason `not_in_archive`): its listing is incomplete, never a
silent gap. Each answer carries its recorded time (`WARC-Date`), which becomes the entries' `crawled_at`
(paperset/crawler/fetch/archive/received.py)."""

from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Headers, HtmlResponse, Request, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator

from paperset.crawler.fetch.archive.addon import ArchiveConfig
from paperset.crawler.fetch.archive.received import RECEIVED, REPLAYED
from paperset.crawler.fetch.archive.record import (
    BODY_SHA1,
    BROWSER_PAGE,
    RENDERED,
    RESPONSE_URL,
    archive_url,
    body_key,
    parse_warc_date,
)

logger = logging.getLogger(__name__)

Key = tuple[str, str, str, bool]  # method, URL, body SHA-1 ("" for none), rendered by the browser


class NotInArchive(Exception):
    """No archive replayed holds an answer to this request."""

    paperset_reason = "not_in_archive"


@dataclass(frozen=True)
class Answer:
    """Where a recorded response is: its file and the offset of its record."""

    path: Path
    offset: int


def request_key(request: Request) -> Key:
    return (request.method.upper(), archive_url(request.url), body_key(request.body),
            bool(request.meta.get("playwright")))


class ArchiveIndex:
    """The answers of every response record in `paths`, by request key, in file order; for a request
    several archives answered, the last archive's answers."""

    def __init__(self, paths: list[Path]) -> None:
        self.answers: dict[Key, list[Answer]] = defaultdict(list)
        self.served: dict[Key, int] = defaultdict(int)
        for path in paths:
            self._read(path)

    def _read(self, path: Path) -> None:
        responses: dict[str, tuple[str, bool, Answer]] = {}
        asked: dict[str, tuple[str, str]] = {}
        order: list[str] = []
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                headers = record.rec_headers
                if record.rec_type == "response" and not headers.get_header(BROWSER_PAGE):
                    rid = headers.get_header("WARC-Record-ID")
                    responses[rid] = (headers.get_header("WARC-Target-URI"), headers.get_header(RENDERED) == "browser",
                                      Answer(path, records.get_record_offset()))
                    order.append(rid)
                elif record.rec_type == "request":
                    method = (record.http_headers.protocol if record.http_headers else "GET") or "GET"
                    asked[headers.get_header("WARC-Concurrent-To")] = (method.upper(),
                                                                       headers.get_header(BODY_SHA1) or "")
        found: dict[Key, list[Answer]] = defaultdict(list)
        for rid in order:
            url, rendered, answer = responses[rid]
            method, body = asked.get(rid, ("GET", ""))
            found[(method, url, body, rendered)].append(answer)
        # A later archive's answers to a request replace an earlier one's: a resumed run asks again only
        # what its killed crawl had not finished, and what it then received is what its tables hold.
        self.answers.update(found)

    def next_answer(self, key: Key) -> Answer | None:
        """The next recorded answer to this request (the last one again once all were served), or None."""
        answers = self.answers.get(key)
        if not answers:
            return None
        served = self.served[key]
        self.served[key] = served + 1
        return answers[min(served, len(answers) - 1)]


def load_response(answer: Answer, request: Request) -> tuple[Response, str]:
    """The recorded response (status, headers, body as received) for `request`, and its WARC-Date."""
    with answer.path.open("rb") as stream:
        stream.seek(answer.offset)
        record = next(iter(ArchiveIterator(stream)))
        body = record.raw_stream.read()
        date = record.rec_headers.get_header("WARC-Date")
        rendered = record.rec_headers.get_header(RENDERED) == "browser"
        url = record.rec_headers.get_header(RESPONSE_URL) or request.url
        http = record.http_headers
    headers = Headers([(k, v) for k, v in http.headers])
    status = int(http.get_statuscode())
    cls: Any = HtmlResponse if rendered else responsetypes.from_args(headers=headers, url=url, body=body)
    flags = [REPLAYED, "playwright"] if rendered else [REPLAYED]
    response = cls(url=url, status=status, headers=headers, body=body, flags=flags, request=request,
                   protocol=http.protocol)
    return response, date


# One index per crawler, shared by its http and https handlers (one count of answers served per request).
_INDEXES: weakref.WeakKeyDictionary[Crawler, ArchiveIndex] = weakref.WeakKeyDictionary()


def crawler_index(crawler: Crawler) -> ArchiveIndex:
    index = _INDEXES.get(crawler)
    if index is None:
        paths = [Path(p) for p in ArchiveConfig.from_settings(crawler.settings).replay]
        index = _INDEXES[crawler] = ArchiveIndex(paths)
        logger.info("replaying %d recorded answers from %d archives: no network",
                    sum(map(len, index.answers.values())), len(paths))
    return index


class ReplayDownloadHandler(BaseDownloadHandler):
    """Answers http and https requests from the archives `PAPERSET_REPLAY` names. Stats:
    `paperset/replay/answered`, `paperset/replay/missing`."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stats = crawler.stats
        self.index = crawler_index(crawler)

    async def download_request(self, request: Request) -> Response:
        assert self.stats is not None
        answer = self.index.next_answer(request_key(request))
        if answer is None:
            self.stats.inc_value("paperset/replay/missing")
            logger.error("not in the archive: %s %s", request.method, archive_url(request.url))
            raise NotInArchive(f"not in the archive: {request.method} {archive_url(request.url)}")
        response, date = load_response(answer, request)
        request.meta[RECEIVED] = parse_warc_date(date).isoformat()
        self.stats.inc_value("paperset/replay/answered")
        return response

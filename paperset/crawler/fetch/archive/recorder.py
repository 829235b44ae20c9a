"""Recording a crawl: a downloader middleware next to the download handler (so it sees each response as
received: before decompression, retries, redirects and robots.txt rules act on it) stamps the time it was
received on the request (`received.RECEIVED`) and, with `PAPERSET_ARCHIVE` set, appends the exchange to
that gzip WARC file. Each exchange (response + request record, two complete gzip members) is handed, as
plain data, to the archive's writer process (writer.py), which builds it and appends it to the file in one
`write`; the response moves on once it is there, so a crawl killed at any moment leaves a readable archive
holding every response any callback saw (and so every request of the spool's ledger that the site
answered)."""

from __future__ import annotations

import functools
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response
from scrapy.http import Request as ScrapyRequest

from paperset.crawler.fetch.archive.addon import ArchiveConfig
from paperset.crawler.fetch.archive.received import RECEIVED, REPLAYED
from paperset.crawler.fetch.archive.record import Exchange, warcinfo_record
from paperset.crawler.fetch.archive.writer import ArchiveWriter

logger = logging.getLogger(__name__)

# The recording recorders of this process, by key: a browser request's page event handler names its
# recorder by key (a partial of a module function and strings: the request stays picklable for the ledger).
_RECORDERS: dict[str, ArchiveRecorder] = {}
HANDLERS = "playwright_page_event_handlers"


async def record_browser_response(key: str, page: str, answer: Any) -> None:
    """scrapy-playwright's `response` page event: record what Chromium received while rendering `page`."""
    recorder = _RECORDERS.get(key)
    if recorder is not None:
        await recorder.record_browser(page, answer)


def exchange_of(request: Request, response: Response, received: datetime, *, fingerprint: str, rendered: bool,
                browser_page: str | None = None) -> Exchange:
    """What the writer process is sent of an exchange: Scrapy's objects taken apart, nothing decoded."""
    ip = response.ip_address
    return Exchange(request.url, request.method, _pairs(request.headers), request.body, response.status,
                    response.protocol, _pairs(response.headers), response.body, response.url,
                    None if ip is None else str(ip), received, fingerprint, rendered, browser_page)


def _pairs(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, values in headers.items() for value in values]


def unique_path(path: Path, suffix: str = "") -> Path:
    """`path` (with `-suffix` before `.warc.gz`), or `-2`, `-3`, ... when taken (a resumed run, a worker
    started again): an archive file is never appended to after its writer stopped."""
    stem = path.name.removesuffix(".warc.gz")
    if suffix:  # a worker's id may begin with the run's name already
        stem = suffix if suffix.startswith(f"{stem}-") else f"{stem}-{suffix}"
    candidate, n = path.with_name(f"{stem}.warc.gz"), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{stem}-{n}.warc.gz")
    return candidate


def open_new(target: Path, suffix: str) -> tuple[Path, int]:
    """A new archive file (never one another process made in the meantime: O_EXCL), open for appending."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        path = unique_path(target, suffix)
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            continue


class ArchiveRecorder:
    """Stamps every live response's receipt time; records the exchange when `PAPERSET_ARCHIVE` names a
    file (a worker of a distributed run writes `<name>-<worker>.warc.gz`). Stats: `paperset/archive/records`
    (exchanges), `paperset/archive/bytes`, `paperset/archive/write_s` (the writer process's time building and
    writing them), `paperset/archive/failed` (exchanges that could not be recorded: their requests failed)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler, self.stats = crawler, crawler.stats
        self.fd: int | None = None
        self.path: Path | None = None
        self.writer: ArchiveWriter | None = None  # the writer process: only when recording
        config = ArchiveConfig.from_settings(crawler.settings)
        if config.recording:
            self.path, self.fd = open_new(Path(config.archive), config.worker_id or "")
            os.write(self.fd, warcinfo_record(self.path.name))
            self.writer = ArchiveWriter(self.path, config.flush_every)
            self.key = uuid.uuid4().hex
            _RECORDERS[self.key] = self
            crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
            logger.info("recording every response in %s", self.path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRecorder:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """A browser request records what Chromium receives while rendering it (its scripts, its API calls)."""
        if self.fd is not None and request.meta.get("playwright"):
            handler = functools.partial(record_browser_response, self.key, request.url)
            request.meta[HANDLERS] = {**(request.meta.get(HANDLERS) or {}), "response": handler}

    async def record_browser(self, page: str, answer: Any) -> None:
        """Record one response Chromium received (`Paperset-Browser-Page`: the page it rendered); one that
        cannot be read any more (the page closed first) is counted `paperset/archive/browser_missed`."""
        assert self.stats is not None
        try:
            body = await answer.body()
            asked = answer.request
            request = ScrapyRequest(answer.url, method=asked.method, headers=await asked.all_headers(),
                                    body=asked.post_data_buffer or b"")
            response = Response(answer.url, status=answer.status, headers=await answer.all_headers(), body=body)
        except Exception:  # Playwright's errors (a closed page, a redirect without body)
            self.stats.inc_value("paperset/archive/browser_missed")
            return
        if self.fd is None:
            return
        size = await self._write(exchange_of(request, response, datetime.now(UTC), fingerprint="", rendered=False,
                                             browser_page=page))
        self.stats.inc_value("paperset/archive/browser_records")
        self.stats.inc_value("paperset/archive/bytes", size)

    async def process_response(self, request: Request, response: Response) -> Response:
        if HANDLERS in request.meta and self.fd is not None:
            del request.meta[HANDLERS]  # its handler stays attached to the page; the request needs it no more
        if REPLAYED in response.flags:
            return response
        received = datetime.now(UTC)
        request.meta[RECEIVED] = received.isoformat()
        if self.fd is None:
            return response
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request).hex()  # type: ignore[union-attr]
        size = await self._write(exchange_of(request, response, received, fingerprint=fingerprint,
                                             rendered=bool(request.meta.get("playwright"))))
        assert self.stats is not None
        self.stats.inc_value("paperset/archive/records")
        self.stats.inc_value("paperset/archive/bytes", size)
        return response

    async def _write(self, exchange: Exchange) -> int:
        """Hand the exchange to the writer process (the crawl thread goes on meanwhile); the response waits
        until its records are in the file. Their size; OSError (counted) if they could not be written."""
        assert self.writer is not None
        try:
            return await self.writer.write(exchange)
        except OSError:
            assert self.stats is not None
            self.stats.inc_value("paperset/archive/failed")
            raise

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.fd is None or self.writer is None:
            return
        write_s = self.writer.close()
        assert self.stats is not None
        self.stats.set_value("paperset/archive/write_s", round(write_s, 6))
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = None
        _RECORDERS.pop(self.key, None)
        assert self.stats is not None
        self.stats.set_value("paperset/archive/path", str(self.path))

"""Recording a crawl: a downloader middleware next to the download handler (so it sees each response as
received: before decompression, retries, redirects and robots.txt rules act on it) stamps the time it was
received on the request (`received.RECEIVED`) and, with `PAPERSET_ARCHIVE` set, appends the exchange to
that gzip WARC file. Each exchange (response + request record, two complete gzip members) is built in a
writer thread and goes to the file in one `write` before the response moves on, so a crawl killed at any
moment leaves a readable archive holding every response any callback saw (and so every request of the
spool's ledger that the site answered)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request as ScrapyRequest
from scrapy.http import Response

from paperset.crawler.fetch.archive.received import RECEIVED, REPLAYED
from paperset.crawler.fetch.archive.record import exchange_records, warcinfo_record

logger = logging.getLogger(__name__)

# The recorder's place among DOWNLOADER_MIDDLEWARES: after every built-in one (the highest is 900), next
# to the download handler.
ORDER = 990
# The recording recorders of this process, by key: a browser request's page event handler names its
# recorder by key (a partial of a module function and strings: the request stays picklable for the ledger).
_RECORDERS: dict[str, ArchiveRecorder] = {}
HANDLERS = "playwright_page_event_handlers"


async def record_browser_response(key: str, page: str, answer: Any) -> None:
    """scrapy-playwright's `response` page event: record what Chromium received while rendering `page`."""
    recorder = _RECORDERS.get(key)
    if recorder is not None:
        await recorder.record_browser(page, answer)


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
    (exchanges), `paperset/archive/bytes`, `paperset/archive/write_s` (the writer thread's time building and
    writing them)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler, self.stats = crawler, crawler.stats
        self.fd: int | None = None
        self.path: Path | None = None
        self.since_sync = 0
        self.syncer: ThreadPoolExecutor | None = None
        target = crawler.settings.get("PAPERSET_ARCHIVE") or ""
        if target and not crawler.settings.getlist("PAPERSET_REPLAY"):
            self.path, self.fd = open_new(Path(target), crawler.settings.get("PAPERSET_WORKER_ID") or "")
            os.write(self.fd, warcinfo_record(self.path.name))
            self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-writer")
            self.write_s = 0.0
            self.key = uuid.uuid4().hex
            _RECORDERS[self.key] = self
            crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
            self.sync_every = crawler.settings.getint("PAPERSET_SPOOL_FLUSH_EVERY") or 100
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
        size = await self._write(functools.partial(exchange_records, request, response, datetime.now(UTC),
                                                   fingerprint="", rendered=False, browser_page=page))
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
        size = await self._write(functools.partial(exchange_records, request, response, received,
                                                   fingerprint=fingerprint,
                                                   rendered=bool(request.meta.get("playwright"))))
        assert self.stats is not None
        self.stats.inc_value("paperset/archive/records")
        self.stats.inc_value("paperset/archive/bytes", size)
        self.since_sync += 1
        if self.since_sync >= self.sync_every:
            self._sync_behind()
        return response

    async def _write(self, build: Callable[[], bytes]) -> int:
        """Build and write records in the writer thread (compressing a page takes milliseconds: the crawl
        thread goes on meanwhile); the response waits until they are in the file. Their size."""
        return await asyncio.get_running_loop().run_in_executor(self.writer, self._build_and_write, build)

    def _build_and_write(self, build: Callable[[], bytes]) -> int:
        started = time.perf_counter()
        data = build()
        os.write(self.fd, data)  # type: ignore[arg-type]
        self.write_s += time.perf_counter() - started
        return len(data)

    def _sync_behind(self) -> None:
        """fsync the archive in a background thread (a machine crash loses at most the records since)."""
        self.since_sync = 0
        if self.syncer is None:
            self.syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-fsync")
        self.syncer.submit(os.fsync, self.fd)  # type: ignore[arg-type]

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.fd is None:
            return
        self.writer.shutdown(wait=True)
        if self.syncer is not None:
            self.syncer.shutdown(wait=True)
        assert self.stats is not None
        self.stats.set_value("paperset/archive/write_s", round(self.write_s, 6))
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = None
        _RECORDERS.pop(self.key, None)
        assert self.stats is not None
        self.stats.set_value("paperset/archive/path", str(self.path))

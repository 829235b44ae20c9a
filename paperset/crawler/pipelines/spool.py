"""Spool step: every accepted entry appended to the run's spool (JSON lines, flushed as it goes)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro

from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.pipelines.config import PipelineConfig
from paperset.crawler.site.items import PaperEntry
from paperset.crawler.site.listings import Listing
from paperset.crawler.tracking.done import ledger_line, tracker_for
from paperset.spool.errors import NO_SPACE_STAT, no_space
from paperset.spool.redact import redact
from paperset.spool.writer import SpoolWriter

logger = logging.getLogger(__name__)


def spool_meta(settings: BaseSettings, *, run_id: str, base_url: str | None, listings: Iterable[Listing],
               **extra: Any) -> dict[str, Any]:
    """What a spool's meta.json says of its crawl: run id, base URL, listings, our settings (passwords in
    URLs redacted) and the dedupe configuration."""
    ours = {k: settings.get(k) for k in sorted(settings.attributes) if k.startswith("PAPERSET_")}
    if base_url:  # `--base-url` reaches the spider as an argument: record the site the crawl asked
        ours["PAPERSET_BASE_URL"] = base_url
    return {"run_id": run_id, "base_url": base_url,
            "listings": [[listing.kind, listing.key] for listing in listings],
            "settings": redact(ours), "dedupe": DedupeConfig.from_settings(settings).to_dict(), **extra}


class SpoolPipeline:
    """Writes entries to `PAPERSET_SPOOL` (a folder) for the packager; memory does not grow with the
    crawl and a killed crawl leaves what it had. At the end, the run's stats go into `meta.json`.

    Every request whose entries are all written goes into the spool's ledger at the next flush
    (paperset/crawler/tracking/done.py), which a resumed crawl replays. Settings: `PAPERSET_SPOOL` (empty: off),
    `PAPERSET_SPOOL_FLUSH_EVERY`, `PAPERSET_RESUME` (continue the spool there).
    """

    def __init__(self, crawler: Crawler, folder: Path, config: PipelineConfig) -> None:
        self.crawler, self.folder, self.config = crawler, folder, config
        self.writer: SpoolWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpoolPipeline:
        config = PipelineConfig.from_settings(crawler.settings)
        if not config.spool:
            raise NotConfigured
        pipeline = cls(crawler, Path(config.spool), config)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        tracker_for(crawler).subscribe(pipeline.request_done)
        return pipeline

    def request_done(self, request: Request, children: list[Request], ok: bool) -> None:
        # A request with an item that failed in a pipeline is not done: a resumed run asks again.
        if self.writer is not None and ok:
            self.writer.done(ledger_line(self.crawler, request, children))

    def spider_opened(self, spider: Any) -> None:
        meta = spool_meta(self.crawler.settings, run_id=uuid.uuid4().hex, base_url=getattr(spider, "base_url", None),
                          listings=getattr(spider, "listings", []))
        try:
            self.writer = SpoolWriter(self.folder, meta, flush_every=self.config.flush_every,
                                      part_bytes=self.config.part_bytes, resume=self.config.resume)
        except OSError as exc:  # meta.json could not be made: no spool, the crawl stops at once
            if not no_space(exc):
                raise
            self.no_space(exc.filename or self.folder)

    def process_item(self, item: Any) -> Any:
        if self.writer is None:  # the spool could not be made (a full disk): the crawl is stopping
            raise DropItem("no spool to write to", log_level="DEBUG")
        try:
            # Our own dataclass is read through its __dict__ (entry_record only reads the fields): no
            # adapter round trip and no deep copy per entry.
            self.writer.write(item.__dict__ if type(item) is PaperEntry else ItemAdapter(item).asdict())
        except OSError as exc:
            if not no_space(exc):
                raise
            self.no_space(self.folder)
            raise DropItem("no space left on the device", log_level="DEBUG") from None
        return item

    def no_space(self, where: Path | str) -> None:
        """A full disk stops the crawl once, with the file or spool named (every later item would fail
        alike); the path goes into the stat NO_SPACE_STAT, which fails the run."""
        assert self.crawler.stats is not None
        assert self.crawler.engine is not None
        if self.crawler.stats.get_value("paperset/spool/no_space"):
            return
        self.crawler.stats.set_value("paperset/spool/no_space", 1)
        self.crawler.stats.set_value(NO_SPACE_STAT, str(where))
        logger.error("no space left writing %s: stopping the crawl", where)
        if self.crawler.engine.spider is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=f"no space left writing {where}"))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.writer is not None:
            assert self.crawler.stats is not None
            try:
                self.writer.close(self.crawler.stats.get_stats(), finish_reason=reason)
            except OSError as exc:
                if not no_space(exc):
                    raise
                # meta.json keeps finished_at null: the packager refuses the spool, a rerun resumes it.
                logger.error("no space left writing %s", exc.filename or self.folder)
                self.crawler.stats.set_value(NO_SPACE_STAT, str(exc.filename or self.folder))

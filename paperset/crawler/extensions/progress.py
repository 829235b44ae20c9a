"""Live progress of a crawl on a terminal: a tqdm bar fed by the crawler's stats and its rate gate, and
the Scrapy add-on that shows it (listed in ADDONS): with `PAPERSET_PROGRESS` on (the CLI turns it on for a
terminal, without --json), the LiveProgress extension is added to EXTENSIONS; off, it is not listed at all
(never built, and tqdm never imported: only the bar, when the spider opens, imports it)."""

from __future__ import annotations

import logging
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import create_looping_call

from paperset.crawler.extensions.summary import summarize
from paperset.crawler.settings.fields import FromSettings, setting

REFRESH_S = 0.5
LIVE_PROGRESS = "paperset.crawler.extensions.progress.LiveProgress"
# After paperset's other extensions (the rate gate it reads is PolitenessGate's, at 60).
ORDER = 600


@dataclass(frozen=True)
class ProgressConfig(FromSettings):
    """`PAPERSET_PROGRESS`: whether the bar is shown."""

    progress: bool = setting("PAPERSET_PROGRESS")


class ProgressBar:
    """The add-on. Settings read: `PAPERSET_PROGRESS` (on: the live progress bar)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if ProgressConfig.from_settings(settings).progress:
            settings["EXTENSIONS"][LIVE_PROGRESS] = ORDER


def wait_left(gate: Any, now: float) -> float:
    """Seconds until the gate lets the next request go: a host closed by a 429/503, or a spent budget."""
    ends = [*getattr(gate, "not_before", {}).values(), *(s[-1] for s in getattr(gate, "starts", {}).values() if s)]
    return max([0.0, *(end - now for end in ends)])


def figures(stats: dict[str, Any], queued: int, wait_s: float) -> dict[str, Any]:
    """What the bar shows, from the crawl's stats (the same counts as the summary printed at the end)."""
    summary = summarize(stats, elapsed=0.0, out=None)
    failed = sum(int(v) for k, v in stats.items() if k.startswith("paperset/failed/"))
    return {"done": int(stats.get("response_received_count", 0)) + failed, "queued": queued, "failed": failed,
            "entries": summary["entries_found"], "dropped": summary["entries_dropped"], "papers": summary["papers"],
            "waits": int(stats.get("paperset/throttle/waits", 0)), "wait_s": wait_s}


def postfix(f: dict[str, Any]) -> str:
    text = (f"queued {f['queued']}, failed {f['failed']} | entries {f['entries']} ({f['dropped']} dropped), "
            f"papers {f['papers']} | throttle waits {f['waits']}")
    return text + (f" (waiting {f['wait_s']:.1f} s)" if f["wait_s"] > 0 else "")


class LiveProgress:
    """A progress bar on stderr, refreshed every REFRESH_S from the stats: requests done / queued /
    failed, entries, papers, throttle waits with the time left of the current one, and elapsed time.

    Listed in EXTENSIONS by the add-on (ProgressBar, above) when `PAPERSET_PROGRESS` is on (the CLI turns it
    on for a terminal); it reads no setting itself.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.bar: Any = None
        self.task: Any = None
        self.redirect: AbstractContextManager[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LiveProgress:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        self.bar = tqdm(total=0, unit="req", file=sys.stderr, dynamic_ncols=True,
                        bar_format="crawling {n_fmt}/{total_fmt} requests |{bar:12}| {elapsed} | {desc}")
        # Log lines to the terminal are printed above the bar instead of through it, at the same level.
        # (None when the log goes to a file, as in `paperset run`.)
        root = logging.getLogger()
        console = [h for h in root.handlers if type(h) is logging.StreamHandler]
        if console:
            self.redirect = logging_redirect_tqdm(loggers=[root])
            self.redirect.__enter__()
            root.handlers[-1].setLevel(console[0].level)
            for log_filter in console[0].filters:
                root.handlers[-1].addFilter(log_filter)
        self.task = create_looping_call(self.refresh)
        self.task.start(REFRESH_S)

    def queued(self) -> int:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        waiting = int(stats.get("scheduler/enqueued", 0)) - int(stats.get("scheduler/dequeued", 0))
        engine = self.crawler.engine
        active = len(engine.downloader.active) if engine is not None else 0
        return max(waiting, 0) + active

    def refresh(self) -> None:
        if self.bar is None or self.crawler.stats is None:
            return
        from paperset.crawler.fetch.politeness.extension import gate_for

        gate = gate_for(self.crawler)
        f = figures(self.crawler.stats.get_stats(), self.queued(), wait_left(gate, gate.clock()))
        self.bar.total = f["done"] + f["queued"]
        self.bar.n = f["done"]
        self.bar.set_description_str(postfix(f), refresh=False)
        self.bar.refresh()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.refresh()
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.redirect is not None:
            self.redirect.__exit__(None, None, None)
            self.redirect = None

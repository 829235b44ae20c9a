"""The web archive's Scrapy add-on (listed in ADDONS): puts the recorder among the downloader middlewares,
the receipt-time stamp among the spider middlewares, and, when `PAPERSET_REPLAY` names archives, the replay
handler in place of the http and https download handlers, with the politeness waits off (nothing is
sent, so nothing is owed to the site)."""

from __future__ import annotations

from scrapy.settings import BaseSettings

from paperset.crawler.fetch.archive.config import ArchiveConfig
from paperset.crawler.fetch.archive.recorder import ORDER

RECORDER = "paperset.crawler.fetch.archive.recorder.ArchiveRecorder"
STAMP = "paperset.crawler.fetch.archive.received.ReceivedAtMiddleware"
REPLAY_HANDLER = "paperset.crawler.fetch.archive.replay.ReplayDownloadHandler"
# Spider output passes the middlewares in decreasing order: the stamp, lowest, sees each entry last, as
# it leaves for the item pipelines.
STAMP_ORDER = 10
# A replay's settings: no waiting (no site is contacted); its concurrency is the recorded crawl's.
REPLAY_SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "PAPERSET_BUDGET_API": 0,
                   "PAPERSET_BUDGET_PAGES": 0, "RETRY_ENABLED": True}


class WebArchive:
    """Settings read: `PAPERSET_ARCHIVE` (the WARC file a crawl records to), `PAPERSET_REPLAY` (the
    archives a crawl is answered from)."""

    def update_settings(self, settings: BaseSettings) -> None:
        settings["DOWNLOADER_MIDDLEWARES"][RECORDER] = ORDER
        settings["SPIDER_MIDDLEWARES"][STAMP] = STAMP_ORDER
        if ArchiveConfig.from_settings(settings).replay:
            settings["DOWNLOAD_HANDLERS"]["http"] = REPLAY_HANDLER
            settings["DOWNLOAD_HANDLERS"]["https"] = REPLAY_HANDLER
            for name, value in REPLAY_SETTINGS.items():
                settings.set(name, value, priority="cmdline")

"""The web archive's Scrapy add-on (listed in ADDONS): puts the recorder among the downloader middlewares,
the receipt-time stamp among the spider middlewares, and, when `PAPERSET_REPLAY` names archives, the replay
handler in place of the http and https download handlers, with the politeness waits off (nothing is
sent, so nothing is owed to the site).

Also the web archive's settings, read once by each of its parts (the add-on, the recorder, the replay
handler): ArchiveConfig, the file a crawl records to, the archives a crawl is answered from."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings

from paperset.crawler.settings.fields import FromSettings, setting

RECORDER = "paperset.crawler.fetch.archive.recorder.ArchiveRecorder"
# The recorder's place among DOWNLOADER_MIDDLEWARES: after every built-in one (the highest is 900), next
# to the download handler.
RECORDER_ORDER = 990
STAMP = "paperset.crawler.fetch.archive.received.ReceivedAtMiddleware"
REPLAY_HANDLER = "paperset.crawler.fetch.archive.replay.ReplayDownloadHandler"
# Spider output passes the middlewares in decreasing order: the stamp, lowest, sees each entry last, as
# it leaves for the item pipelines.
STAMP_ORDER = 10
# A replay's settings: no waiting (no site is contacted); its concurrency is the recorded crawl's.
REPLAY_SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "PAPERSET_BUDGET_API": 0,
                   "PAPERSET_BUDGET_PAGES": 0, "RETRY_ENABLED": True}


@dataclass(frozen=True)
class ArchiveConfig(FromSettings):
    """Each field a setting of paperset/crawler/settings/fields.py (its type and range declared there)."""

    archive: str = setting("PAPERSET_ARCHIVE")
    replay: tuple[str, ...] = setting("PAPERSET_REPLAY")
    # A worker of a distributed run records to `<name>-<worker>.warc.gz`.
    worker_id: str = setting("PAPERSET_WORKER_ID")
    # The writer process's queue: exchanges handed over before the recorder waits for them.
    flush_every: int = setting("PAPERSET_SPOOL_FLUSH_EVERY")

    @property
    def recording(self) -> bool:
        """A file to record to, and no archive replayed (a replay records nothing)."""
        return bool(self.archive) and not self.replay


class WebArchive:
    """Settings read: `PAPERSET_ARCHIVE` (the WARC file a crawl records to), `PAPERSET_REPLAY` (the
    archives a crawl is answered from)."""

    def update_settings(self, settings: BaseSettings) -> None:
        settings["DOWNLOADER_MIDDLEWARES"][RECORDER] = RECORDER_ORDER
        settings["SPIDER_MIDDLEWARES"][STAMP] = STAMP_ORDER
        if ArchiveConfig.from_settings(settings).replay:
            settings["DOWNLOAD_HANDLERS"]["http"] = REPLAY_HANDLER
            settings["DOWNLOAD_HANDLERS"]["https"] = REPLAY_HANDLER
            for name, value in REPLAY_SETTINGS.items():
                settings.set(name, value, priority="cmdline")

"""The web archive's settings, read once by each of its parts (the add-on, the recorder, the replay
handler): the file a crawl records to, the archives a crawl is answered from."""

from __future__ import annotations

from dataclasses import dataclass

from paperset.crawler.settings.fields import FromSettings, setting


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

"""The crawler's one rate gate, as a Scrapy extension: the download handler, the retry middleware and the
progress bar find it with `crawler.get_extension(PolitenessGate)` (through `gate_for`). A crawl on its own
imports nothing of the distributed run (paperset.crawler.distributed): only a worker's shared gate needs it."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.crawler import Crawler

from paperset.crawler.fetch.politeness.config import PolitenessConfig
from paperset.crawler.fetch.politeness.gate import RateGate
from paperset.crawler.fetch.politeness.shared import SharedRateGate
from paperset.crawler.settings.fields import FromSettings, setting


@dataclass(frozen=True)
class SharingConfig(FromSettings):
    """`PAPERSET_REDIS_NAME`: the dataset whose distributed run shares its gate in Redis (empty: none)."""

    redis_name: str = setting("PAPERSET_REDIS_NAME")


class PolitenessGate:
    """Holds the crawler's RateGate: a SharedRateGate in Redis for a worker of a distributed run.

    Settings: the gate's (PolitenessConfig), `PAPERSET_REDIS_NAME` (set: the shared gate), `REDIS_URL`.
    Listed in `EXTENSIONS` (paperset.crawler.settings); the components that need it fail without it.
    """

    def __init__(self, gate: RateGate) -> None:
        self.gate = gate

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessGate:
        config = PolitenessConfig.from_settings(crawler.settings)
        name = SharingConfig.from_settings(crawler.settings).redis_name
        if name:
            from paperset.crawler.distributed.keys import prefix
            from paperset.crawler.distributed.redis_client import redis_for

            return cls(SharedRateGate(config, redis_for(crawler.settings), prefix(name)))
        return cls(RateGate(config))


def gate_for(crawler: Crawler) -> RateGate:
    """The crawler's one gate; a clear error when the PolitenessGate extension is not enabled."""
    extension = crawler.get_extension(PolitenessGate)
    if extension is None:
        raise RuntimeError("the rate gate needs the extension "
                           "paperset.crawler.fetch.politeness.extension.PolitenessGate "
                           "in EXTENSIONS (paperset.crawler.settings lists it)")
    return extension.gate

"""The crawler's one rate gate, shared by the download handler, the retry middleware and the progress bar."""

from __future__ import annotations

import weakref

from scrapy.crawler import Crawler

from crawler.politeness.config import PolitenessConfig
from crawler.politeness.gate import RateGate
from crawler.politeness.shared import SharedRateGate

_GATES: weakref.WeakKeyDictionary[Crawler, RateGate] = weakref.WeakKeyDictionary()


def gate_for(crawler: Crawler) -> RateGate:
    """The crawler's one gate, shared by the download handler and the retry middleware."""
    if crawler not in _GATES:
        config = PolitenessConfig.from_settings(crawler.settings)
        name = crawler.settings.get("PAPERSET_REDIS_NAME")
        if name:
            from scrapy_redis import connection

            _GATES[crawler] = SharedRateGate(config, connection.from_settings(crawler.settings), f"paperset:{name}:")
        else:
            _GATES[crawler] = RateGate(config)
    return _GATES[crawler]

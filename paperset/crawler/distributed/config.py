"""A distributed run's settings as its parts read them (the add-on, the worker extension, the shared queue,
the shared rate gate, the rejects log), once each: which run a crawl joins and as which worker. No Scrapy,
no redis-py (the add-on reads it before anything of the run is loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from paperset.crawler.settings.fields import FromSettings, setting


@dataclass(frozen=True)
class WorkerConfig(FromSettings):
    """`PAPERSET_REDIS_NAME`: the dataset whose run the crawl joins (empty: none, the crawl is on its own);
    `PAPERSET_WORKER_ID`: this worker's name (empty: not a worker). The Redis server is scrapy-redis's
    `REDIS_URL` (paperset/crawler/distributed/redis_client.py)."""

    redis_name: str = setting("PAPERSET_REDIS_NAME")
    worker_id: str = setting("PAPERSET_WORKER_ID")

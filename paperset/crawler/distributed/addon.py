"""The distributed worker as a Scrapy add-on (listed in ADDONS): a crawl whose settings name a Redis run
(`PAPERSET_WORKER_ID`, `PAPERSET_REDIS_NAME`, `REDIS_URL`) becomes one of its workers. This one file shows
everything a worker changes: the requests come from and go to the run's shared queue (scrapy-redis's
scheduler and dupefilter under this run's keys), entries go to Redis instead of a local spool, the near-dup
index is the run's Redis index, and the worker's coordination extension claims requests and reports each
listing's outcome. Without a worker id the add-on changes nothing.

Also a distributed run's settings as its parts read them (WorkerConfig: the add-on, the worker extension,
the shared queue), once each: which run a crawl joins and as which worker. No redis-py here (the add-on
reads them before anything of the run is loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings

from paperset.crawler.distributed.keys import keys
from paperset.crawler.errors import SettingError
from paperset.crawler.settings.fields import FromSettings, setting

SPOOL_PIPELINE = "paperset.crawler.pipelines.spool.SpoolPipeline"
ENTRIES_PIPELINE = "paperset.crawler.distributed.worker.WorkerEntriesPipeline"
ENTRIES_ORDER = 800
COORDINATION = "paperset.crawler.distributed.worker.WorkerCoordination"
COORDINATION_ORDER = 200
# What a worker keeps of its own: no local spool, no resume (a distributed run is not resumed).
LOCAL_OFF = {"PAPERSET_SPOOL": "", "PAPERSET_RESUME": False}


@dataclass(frozen=True)
class WorkerConfig(FromSettings):
    """`PAPERSET_REDIS_NAME`: the dataset whose run the crawl joins (empty: none, the crawl is on its own);
    `PAPERSET_WORKER_ID`: this worker's name (empty: not a worker). The Redis server is scrapy-redis's
    `REDIS_URL` (paperset/crawler/distributed/redis_client.py)."""

    redis_name: str = setting("PAPERSET_REDIS_NAME")
    worker_id: str = setting("PAPERSET_WORKER_ID")


class DistributedWorker:
    """Settings read: `PAPERSET_WORKER_ID` (on: this crawl is a worker), `PAPERSET_REDIS_NAME` (the dataset
    whose run it joins), `REDIS_URL` (the shared Redis)."""

    def update_settings(self, settings: BaseSettings) -> None:
        config = WorkerConfig.from_settings(settings)
        if not config.worker_id:
            return
        missing = [name for name, value in (("PAPERSET_REDIS_NAME", config.redis_name),
                                            ("REDIS_URL", settings.get("REDIS_URL"))) if not value]
        if missing:  # else its entries would go to a queue nobody drains: dropped without a word
            raise SettingError(f"PAPERSET_WORKER_ID makes a crawl a distributed worker, which needs "
                                f"{' and '.join(missing)} too")
        url, names = settings.get("REDIS_URL"), keys(config.redis_name)
        pipelines = settings["ITEM_PIPELINES"]
        if SPOOL_PIPELINE in pipelines:
            del pipelines[SPOOL_PIPELINE]
        pipelines[ENTRIES_PIPELINE] = ENTRIES_ORDER
        settings["EXTENSIONS"][COORDINATION] = COORDINATION_ORDER
        for name, value in {
            "SCHEDULER": "paperset.crawler.distributed.queue.ClaimingScheduler",
            "SCHEDULER_QUEUE_CLASS": "paperset.crawler.distributed.queue.ClaimingQueue",
            "SCHEDULER_QUEUE_KEY": names["requests"],
            "SCHEDULER_DUPEFILTER_KEY": names["dupefilter"],
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,
            "PAPERSET_DEDUPE_STORE": url,
            **LOCAL_OFF,
        }.items():
            settings.set(name, value, priority="cmdline")

"""The worker add-on (paperset/crawler/distributed/addon.py) makes a crawl a worker or leaves it alone, never
half of one: a worker id without the run's name or Redis URL would send its entries to a queue nobody
drains."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from paperset.app.crawl import CrawlJob
from paperset.crawler.distributed.addon import DistributedWorker
from paperset.crawler.errors import SettingError
from paperset.crawler.site.listings import Listing
from paperset.crawler.spiders.all_papers import ALL_PAPERS
from tests.conftest import project_settings_dict

SPOOL = "paperset.crawler.pipelines.spool.SpoolPipeline"
ENTRIES = "paperset.crawler.distributed.worker.WorkerEntriesPipeline"


def pipelines(**settings: object) -> dict:
    crawler = get_crawler(Spider, project_settings_dict(**settings))
    return {k: v for k, v in crawler.settings.getdict("ITEM_PIPELINES").items() if k in (SPOOL, ENTRIES)}


def test_a_worker_id_alone_is_refused_naming_what_is_missing() -> None:
    assert list(pipelines()) == [SPOOL]  # no worker id: a crawl of its own
    with pytest.raises(SettingError, match="needs PAPERSET_REDIS_NAME and REDIS_URL too"):
        pipelines(PAPERSET_WORKER_ID="w1")
    with pytest.raises(SettingError, match="needs REDIS_URL too"):
        pipelines(PAPERSET_WORKER_ID="w1", PAPERSET_REDIS_NAME="ds")
    settings = Settings(project_settings_dict(PAPERSET_WORKER_ID="w1", PAPERSET_REDIS_NAME="ds",
                                              REDIS_URL="redis://127.0.0.1:1/0"))
    DistributedWorker().update_settings(settings)
    chosen = settings.getdict("ITEM_PIPELINES")
    assert (SPOOL in chosen, chosen[ENTRIES], settings["SCHEDULER_QUEUE_KEY"]) == (False, 800, "paperset:ds:requests")


def test_the_coordinator_plans_every_listing_the_spider_settles() -> None:
    job = CrawlJob(asked={"day": ["2025-03-05"]}, all_papers=True)
    assert job.planned() == [Listing("day", "2025-03-05"), ALL_PAPERS]
    assert CrawlJob(asked={"day": ["2025-03-05"]}).planned() == [Listing("day", "2025-03-05")]

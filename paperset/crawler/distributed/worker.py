"""A worker's side of a distributed run, as Scrapy components: the coordination extension (heartbeat,
claims acknowledged when their requests are done, stats into Redis) and the entries pipeline."""

from __future__ import annotations

import json
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from paperset.crawler.distributed.addon import WorkerConfig
from paperset.crawler.distributed.keys import keys
from paperset.crawler.distributed.outbox import outbox_for
from paperset.crawler.distributed.queue import (
    CLAIM_META,
    HEARTBEAT_S,
    HEARTBEAT_TTL_S,
    coverage_sink,
    drained,
    release_dead,
)
from paperset.crawler.distributed.redis_client import redis_for
from paperset.crawler.site.items import PaperEntry
from paperset.crawler.tracking.coverage import listing_settled
from paperset.crawler.tracking.done import tracker_for
from paperset.spool.writer import entry_record


def entry_json(item: Any) -> str:
    """An entry as a spool line, so that the coordinator writes it to the spool as it comes."""
    return entry_record(item.__dict__ if type(item) is PaperEntry else ItemAdapter(item).asdict())


class WorkerEntriesPipeline:
    """A worker's last step: every entry, as a spool line, waits in the worker's Outbox until its
    request is done, then goes to the run's `items` list in the same round trip that releases the claim
    (entries are in Redis before their request's claim is given up). Settings: `PAPERSET_REDIS_NAME`."""

    def __init__(self, coordination: WorkerCoordination) -> None:
        self.lines = coordination.lines

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerEntriesPipeline:
        coordination = crawler.get_extension(WorkerCoordination)
        if coordination is None:
            raise NotConfigured("a worker's entries need the WorkerCoordination extension")
        return cls(coordination)

    def process_item(self, item: Any) -> Any:
        self.lines.append(entry_json(item))
        return item


class WorkerCoordination:
    """A worker's side of the run: heartbeat, acknowledging done requests (their claims), keeping the
    spider open while other workers may still queue work, and its stats into Redis at the end.

    Settings: `PAPERSET_REDIS_NAME` (empty: not a worker), `PAPERSET_WORKER_ID`, `REDIS_URL`.
    """

    def __init__(self, crawler: Crawler, server: Any, name: str, worker: str) -> None:
        self.crawler, self.server, self.name, self.worker = crawler, server, name, worker
        self.keys = keys(name)
        self.beat = task.LoopingCall(self.heartbeat)
        # Spool lines of entries through the pipelines (WorkerEntriesPipeline), claims of requests done
        # and failures, not yet in Redis: sent with the next claim, or at the latest by the heartbeat.
        self.outbox = outbox_for(crawler)
        self.lines = self.outbox.lines

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerCoordination:
        config = WorkerConfig.from_settings(crawler.settings)
        if not config.redis_name:
            raise NotConfigured
        ext = cls(crawler, redis_for(crawler.settings), config.redis_name, config.worker_id)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        return ext

    def request_dropped(self, request: Request, **_: Any) -> None:
        """A claimed request the scheduler dropped (a redirect to a page already seen) is over."""
        claim = request.meta.pop(CLAIM_META, None)
        if claim:
            self.server.hdel(self.keys["claims:"] + self.worker, claim)

    def heartbeat(self) -> None:
        self.flush()
        self.server.set(self.keys["alive:"] + self.worker, "1", ex=HEARTBEAT_TTL_S)

    def spider_opened(self, spider: Spider) -> None:
        # Extensions are found only once all are made: DoneTracker is subscribed to here, before any
        # request starts.
        tracker = tracker_for(self.crawler)
        tracker.track_children = True  # a claim is released only once its new requests are queued
        tracker.subscribe(self.request_done)
        # Each listing outcome to Redis at once (held here: the signal keeps a weak reference).
        self.record_outcome = coverage_sink(self.server, self.name)
        self.crawler.signals.connect(self.record_outcome, signal=listing_settled)
        self.server.sadd(self.keys["workers"], self.worker)
        self.heartbeat()
        self.beat.start(HEARTBEAT_S, now=False)

    def request_done(self, request: Request, children: list[Request], ok: bool) -> None:
        # Released even when an item failed (counted in Redis with the release, so that the run
        # publishes nothing even if this worker dies before it reports its stats): asking again would
        # fail again and keep the queue from draining. Its entries and claim go with the next claim.
        outbox = self.outbox
        if not ok:
            outbox.errors += 1
        claim = request.meta.get(CLAIM_META)
        if claim:
            outbox.claims.append(claim)

    def flush(self) -> None:
        """What the worker owes (entries, released claims, failures) goes now."""
        self.outbox.flush(self.server, self.keys, self.worker)

    def spider_idle(self, spider: Spider) -> None:
        tracker_for(self.crawler).sweep()
        self.flush()
        release_dead(self.server, self.name)
        if not drained(self.server, self.name):
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.flush()
        if self.beat.running:
            self.beat.stop()
        assert self.crawler.stats is not None
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, int | float)}
        self.server.hset(self.keys["stats"], self.worker, json.dumps({"reason": reason, "stats": stats}))
        self.server.delete(self.keys["alive:"] + self.worker)

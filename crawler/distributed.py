"""Many crawl workers through Redis: scrapy-redis's scheduler and dupefilter with a queue that keeps every
taken request claimed until its entries are safe, so that a worker killed mid-crawl loses nothing.

Keys, all under `paperset:<name>:` (the dataset's name): `plan` (the run: spider arguments and
settings, JSON), `requests` (the queue, scrapy-redis), `dupefilter`, `claims:<worker>` (a hash of the
requests a worker took and has not finished), `alive:<worker>` (its heartbeat, with a TTL), `items`
and `rejects` (JSON lines the coordinator drains into the run's spool and rejects file) and `stats`
(each worker's final stats). A worker whose heartbeat expired has its claims put back at the head of
the queue by whoever notices first (the coordinator or an idle worker).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis import picklecompat
from scrapy_redis.queue import FifoQueue
from twisted.internet import task

from crawler.checkpoint import REDO, progress_for
from packager.spool import entry_record

logger = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
# Long enough that a worker busy in synchronous work (a large page, a slow Redis) is not taken for dead.
HEARTBEAT_TTL_S = 15
CLAIM_META = "paperset_claim"

# Pop the queue's oldest request and record it as claimed by this worker, in one step.
_POP_CLAIM = """
local data = redis.call('RPOP', KEYS[1])
if data then redis.call('HSET', KEYS[2], ARGV[1], data) end
return data
"""
# Nothing queued and nothing claimed, read in one step (a claim moving back to the queue cannot slip
# between the two reads). ARGV: the claims keys' pattern.
_DRAINED = """
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
local cursor = '0'
repeat
  local found = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = found[1]
  for _, key in ipairs(found[2]) do
    if redis.call('HLEN', key) > 0 then return 0 end
  end
until cursor == '0'
return 1
"""


def keys(name: str) -> dict[str, str]:
    """The Redis keys of dataset `name`'s distributed run."""
    base = f"paperset:{name}:"
    return {part: base + part for part in ("plan", "requests", "dupefilter", "items", "rejects", "stats",
                                           "errors", "claims:", "alive:")}


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class ClaimingQueue(FifoQueue):
    """scrapy-redis's FIFO queue whose `pop` claims the request for this worker until it is done
    (see `WorkerCoordination`); a claimed request that comes back (a retry) gives up its claim."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        settings = spider.crawler.settings
        self.claims_key = keys(settings.get("PAPERSET_REDIS_NAME"))["claims:"] + settings.get("PAPERSET_WORKER_ID")
        self._pop_claim = server.register_script(_POP_CLAIM)

    def push(self, request: Request) -> None:
        claim = request.meta.pop(CLAIM_META, None)
        pipe = self.server.pipeline()
        pipe.lpush(self.key, self._encode_request(request))
        if claim:
            pipe.hdel(self.claims_key, claim)
        pipe.execute()
        progress_for(self.spider.crawler).child_settled(request)

    def pop(self, timeout: int = 0) -> Request | None:
        claim = uuid.uuid4().hex
        data = self._pop_claim(keys=[self.key, self.claims_key], args=[claim])
        if data is None:
            return None
        request = self._decode_request(data)
        request.meta[CLAIM_META] = claim
        return request


def release_dead(server: Any, name: str) -> int:
    """Put the claims of every worker whose heartbeat expired back at the head of the queue, marked
    REDO (see crawler/checkpoint.py); how many. Atomic against other reapers (WATCH)."""
    import redis

    names = keys(name)
    released = 0
    for claims in server.scan_iter(match=names["claims:"] + "*"):
        worker = claims.decode()[len(names["claims:"]):]
        alive = names["alive:"] + worker
        if server.exists(alive):
            continue
        with server.pipeline() as pipe:
            try:
                pipe.watch(claims, alive)  # a stalled worker that beats again keeps its claims
                if pipe.exists(alive):
                    continue
                requests = [_mark_redo(data) for data in pipe.hvals(claims)]
                pipe.multi()
                if requests:
                    pipe.rpush(names["requests"], *requests)
                pipe.delete(claims)
                pipe.execute()
            except redis.WatchError:
                continue  # another reaper took them
        if requests:
            logger.warning("worker %s is gone: %d of its requests are back in the queue", worker, len(requests))
        released += len(requests)
    return released


def _mark_redo(data: bytes) -> bytes:
    request = picklecompat.loads(data)
    request["meta"] = {**request.get("meta", {}), REDO: True}
    return picklecompat.dumps(request)


def drained(server: Any, name: str) -> bool:
    """Nothing queued and nothing claimed: the crawl is over."""
    names = keys(name)
    return bool(server.eval(_DRAINED, 1, names["requests"], names["claims:"] + "*"))


def entry_json(item: Any) -> str:
    """An entry as a spool line (REDIS_ITEMS_SERIALIZER of scrapy-redis's RedisPipeline), so that the
    coordinator writes it to the spool as it comes."""
    return entry_record(ItemAdapter(item).asdict())


class WorkerCoordination:
    """A worker's side of the run: heartbeat, acknowledging done requests (their claims), keeping the
    spider open while other workers may still queue work, and its stats into Redis at the end.

    Settings: `PAPERSET_REDIS_NAME` (empty: not a worker), `PAPERSET_WORKER_ID`, `REDIS_URL`.
    """

    def __init__(self, crawler: Crawler, server: Any, name: str, worker: str) -> None:
        self.crawler, self.server, self.name, self.worker = crawler, server, name, worker
        self.keys = keys(name)
        self.beat = task.LoopingCall(self.heartbeat)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerCoordination:
        name = crawler.settings.get("PAPERSET_REDIS_NAME")
        if not name:
            raise NotConfigured
        from scrapy_redis import connection

        ext = cls(crawler, connection.from_settings(crawler.settings), name, crawler.settings.get("PAPERSET_WORKER_ID"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        progress = progress_for(crawler)
        progress.track_children = True  # a claim is released only once its new requests are queued
        progress.subscribe(ext.request_done)
        return ext

    def request_dropped(self, request: Request, **_: Any) -> None:
        """A claimed request the scheduler dropped (a redirect to a page already seen) is over."""
        claim = request.meta.pop(CLAIM_META, None)
        if claim:
            self.server.hdel(self.keys["claims:"] + self.worker, claim)

    def heartbeat(self) -> None:
        self.server.set(self.keys["alive:"] + self.worker, "1", ex=HEARTBEAT_TTL_S)

    def spider_opened(self, spider: Spider) -> None:
        self.heartbeat()
        self.beat.start(HEARTBEAT_S, now=False)

    def request_done(self, request: Request, children: list[Request], ok: bool) -> None:
        # Released even when an item failed (counted in Redis at once, so that the run publishes
        # nothing even if this worker dies before it reports its stats): asking again would fail again
        # and keep the queue from draining.
        if not ok:
            self.server.incr(self.keys["errors"])
        claim = request.meta.get(CLAIM_META)
        if claim:
            self.server.hdel(self.keys["claims:"] + self.worker, claim)

    def spider_idle(self, spider: Spider) -> None:
        progress_for(self.crawler).sweep()
        release_dead(self.server, self.name)
        if not drained(self.server, self.name):
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.beat.running:
            self.beat.stop()
        assert self.crawler.stats is not None
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, int | float)}
        self.server.hset(self.keys["stats"], self.worker, json.dumps({"reason": reason, "stats": stats}))
        self.server.delete(self.keys["alive:"] + self.worker)

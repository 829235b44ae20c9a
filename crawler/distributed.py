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
from urllib.parse import urlsplit, urlunsplit

from itemadapter import ItemAdapter
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.queue import FifoQueue
from twisted.internet import task

from crawler.checkpoint import progress_for
from packager.spool import ENTRY_FIELDS

logger = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
HEARTBEAT_TTL_S = 5
CLAIM_META = "paperset_claim"

# Pop the queue's oldest request and record it as claimed by this worker, in one step.
_POP_CLAIM = """
local data = redis.call('RPOP', KEYS[1])
if data then redis.call('HSET', KEYS[2], ARGV[1], data) end
return data
"""
# Put a dead worker's claims back at the head of the queue, in one step.
_RELEASE = """
local claims = redis.call('HVALS', KEYS[1])
for _, data in ipairs(claims) do redis.call('RPUSH', KEYS[2], data) end
redis.call('DEL', KEYS[1])
return #claims
"""


def keys(name: str) -> dict[str, str]:
    """The Redis keys of dataset `name`'s distributed run."""
    base = f"paperset:{name}:"
    return {part: base + part for part in ("plan", "requests", "dupefilter", "items", "rejects", "stats",
                                           "claims:", "alive:")}


def redact(url: str) -> str:
    """A Redis URL without its password, for logs, cards and manifests."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


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

    def pop(self, timeout: int = 0) -> Request | None:
        claim = uuid.uuid4().hex
        data = self._pop_claim(keys=[self.key, self.claims_key], args=[claim])
        if data is None:
            return None
        request = self._decode_request(data)
        request.meta[CLAIM_META] = claim
        return request


def release_dead(server: Any, name: str) -> int:
    """Put the claims of every worker whose heartbeat expired back in the queue; how many."""
    names = keys(name)
    released = 0
    for claims in server.scan_iter(match=names["claims:"] + "*"):
        worker = claims.decode()[len(names["claims:"]):]
        if not server.exists(names["alive:"] + worker):
            count = server.eval(_RELEASE, 2, claims, names["requests"])
            if count:
                logger.warning("worker %s is gone: %d of its requests are back in the queue", worker, count)
            released += int(count)
    return released


def drained(server: Any, name: str) -> bool:
    """Nothing queued and nothing claimed: the crawl is over."""
    names = keys(name)
    if server.llen(names["requests"]):
        return False
    return not any(server.hlen(k) for k in server.scan_iter(match=names["claims:"] + "*"))


def entry_json(item: Any) -> str:
    """An entry as the spool stores it (REDIS_ITEMS_SERIALIZER of scrapy-redis's RedisPipeline)."""
    entry = ItemAdapter(item).asdict()
    return json.dumps({name: entry.get(name) for name in ENTRY_FIELDS}, ensure_ascii=False)


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
        progress_for(crawler).subscribe(ext.request_done)
        return ext

    def heartbeat(self) -> None:
        self.server.set(self.keys["alive:"] + self.worker, "1", ex=HEARTBEAT_TTL_S)

    def spider_opened(self, spider: Spider) -> None:
        self.heartbeat()
        self.beat.start(HEARTBEAT_S, now=False)

    def request_done(self, request: Request, children: list[Request]) -> None:
        claim = request.meta.get(CLAIM_META)
        if claim:
            self.server.hdel(self.keys["claims:"] + self.worker, claim)

    def spider_idle(self, spider: Spider) -> None:
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

"""Many crawl workers through Redis: scrapy-redis's scheduler and dupefilter with a queue that keeps every
taken request claimed until its entries are safe, so that a worker killed mid-crawl loses nothing.

Keys, all under `paperset:<name>:` (the dataset's name): `plan` (the run: spider arguments and
settings, JSON), `requests` (the queue, scrapy-redis), `dupefilter`, `claims:<worker>` (a hash of the
requests a worker took and has not finished), `alive:<worker>` (its heartbeat, with a TTL), `workers` (the set of
worker ids that have beaten or claimed: the claims and heartbeats to look at, found without scanning a
keyspace that also holds the near-dup index), `items`
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

from crawler.checkpoint import REDO, DoneTracker, tracker_for
from crawler.coverage import INCOMPLETE
from crawler.items import PaperEntry
from crawler.redis_client import redis_for
from packager.spool import entry_record

logger = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
# Long enough that a worker busy in synchronous work (a large page, a slow Redis) is not taken for dead.
HEARTBEAT_TTL_S = 15
CLAIM_META = "paperset_claim"

# Pop up to ARGV[2] of the queue's oldest requests and record each as claimed by this worker (claim ids
# ARGV[1]:0, ARGV[1]:1, ...), in one step.
_POP_CLAIM = """
local taken = {}
for i = 1, tonumber(ARGV[2]) do
  local data = redis.call('RPOP', KEYS[1])
  if not data then break end
  redis.call('HSET', KEYS[2], ARGV[1] .. ':' .. (i - 1), data)
  taken[i] = data
end
if #taken > 0 then redis.call('SADD', KEYS[3], ARGV[3]) end
return taken
"""
# Requests a worker claims in one round trip at most; it claims no more than its downloader has room
# for (the engine takes that many at once), so no request waits in one worker's hands while another
# worker is idle.
CLAIM_BATCH_MAX = 8
# Nothing queued and nothing claimed, read in one step (a claim moving back to the queue cannot slip
# between the two reads). KEYS: the queue, the workers set; ARGV: the claims keys' prefix.
_DRAINED = """
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HLEN', ARGV[1] .. worker) > 0 then return 0 end
end
return 1
"""


def keys(name: str) -> dict[str, str]:
    """The Redis keys of dataset `name`'s distributed run."""
    base = f"paperset:{name}:"
    return {part: base + part for part in ("plan", "requests", "dupefilter", "items", "rejects", "stats",
                                           "errors", "workers", "coverage", "claims:", "alive:")}


def coverage_sink(server: Any, name: str) -> Any:
    """A spider's `coverage_sink` in a distributed run: each listing outcome goes to the run's Redis hash
    at once (a worker killed later loses none). A complete or empty outcome replaces an incomplete one,
    never the other way round (the rule of crawler.coverage.Coverage)."""
    key = keys(name)["coverage"]

    def record(listing: Any, status: str, reason: str | None) -> None:
        field, value = f"{listing.kind}\t{listing.key}", json.dumps([status, reason])
        if status == INCOMPLETE:
            server.hsetnx(key, field, value)
        else:
            server.hset(key, field, value)

    return record


def coverage_report(server: Any, name: str, listings: list[Any], finish_reason: str) -> list[dict[str, Any]]:
    """The coverage report of a distributed run, from the outcomes its workers recorded."""
    from crawler.coverage import Coverage
    from crawler.listings import Listing

    coverage = Coverage(listings)
    for field, value in server.hgetall(keys(name)["coverage"]).items():
        kind, key = field.decode("utf-8").split("\t", 1)
        status, reason = json.loads(value)
        coverage.settle(Listing(kind, key), status, reason)
    return coverage.report("request_dropped" if finish_reason == "finished" else f"crawl stopped ({finish_reason})")


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class ClaimingQueue(FifoQueue):
    """scrapy-redis's FIFO queue whose `pop` claims the request for this worker until it is done
    (see `WorkerCoordination`); a claimed request that comes back (a retry) gives up its claim.

    One round trip claims as many requests as the downloader has free room for (CONCURRENT_REQUESTS less
    those in progress; at most CLAIM_BATCH_MAX): the engine asks for that many in a row. Those not yet
    handed to it wait here, claimed (a worker that dies loses none of them)."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None,
                 tracker: DoneTracker | None = None) -> None:
        super().__init__(server, spider, key, serializer)
        # The crawler's DoneTracker; one of its own for a crawler that never starts (the coordinator seeds).
        self.tracker = tracker or tracker_for(spider.crawler)
        settings = spider.crawler.settings
        names, self.worker = keys(settings.get("PAPERSET_REDIS_NAME")), settings.get("PAPERSET_WORKER_ID")
        self.claims_key, self.workers_key = names["claims:"] + self.worker, names["workers"]
        self._pop_claim = server.register_script(_POP_CLAIM)
        self.taken: list[tuple[str, bytes]] = []

    def __len__(self) -> int:
        return len(self.taken) + super().__len__()

    def push(self, request: Request) -> None:
        claim = request.meta.pop(CLAIM_META, None)
        pipe = self.server.pipeline()
        pipe.lpush(self.key, self._encode_request(request))
        if claim:
            pipe.hdel(self.claims_key, claim)
        pipe.execute()
        self.tracker.child_settled(request)

    def room(self) -> int:
        """How many requests the engine will take now: the downloader's free slots (1 to CLAIM_BATCH_MAX)."""
        engine = self.spider.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if downloader is None or downloader.total_concurrency <= 0:
            return 1
        return max(1, min(CLAIM_BATCH_MAX, downloader.total_concurrency - len(downloader.active)))

    def pop(self, timeout: int = 0) -> Request | None:
        if not self.taken:
            prefix = uuid.uuid4().hex
            found = self._pop_claim(keys=[self.key, self.claims_key, self.workers_key],
                                    args=[prefix, self.room(), self.worker])
            self.taken = [(f"{prefix}:{n}", data) for n, data in enumerate(found)][::-1]
            if not self.taken:
                return None
        claim, data = self.taken.pop()
        request = self._decode_request(data)
        request.meta[CLAIM_META] = claim
        return request


def release_dead(server: Any, name: str) -> int:
    """Put the claims of every worker whose heartbeat expired back at the head of the queue, marked
    REDO (see crawler/checkpoint.py); how many. Atomic against other reapers (WATCH)."""
    import redis

    names = keys(name)
    released = 0
    for member in server.smembers(names["workers"]):
        worker = member.decode()
        claims, alive = names["claims:"] + worker, names["alive:"] + worker
        if server.exists(alive) or not server.exists(claims):
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
    return bool(server.eval(_DRAINED, 2, names["requests"], names["workers"], names["claims:"]))


def workers_alive(server: Any, name: str) -> bool:
    """Whether any worker's heartbeat is there."""
    names = keys(name)
    members = [names["alive:"] + m.decode() for m in server.smembers(names["workers"])]
    return bool(members) and server.exists(*members) > 0


def entry_json(item: Any) -> str:
    """An entry as a spool line, so that the coordinator writes it to the spool as it comes."""
    return entry_record(item.__dict__ if type(item) is PaperEntry else ItemAdapter(item).asdict())


class WorkerEntriesPipeline:
    """A worker's last step: every entry, as a spool line, waits in its WorkerCoordination until a
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
        # Spool lines of entries through the pipelines, not yet in Redis (WorkerEntriesPipeline).
        self.lines: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerCoordination:
        name = crawler.settings.get("PAPERSET_REDIS_NAME")
        if not name:
            raise NotConfigured
        ext = cls(crawler, redis_for(crawler.settings), name, crawler.settings.get("PAPERSET_WORKER_ID"))
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
        self.server.set(self.keys["alive:"] + self.worker, "1", ex=HEARTBEAT_TTL_S)

    def spider_opened(self, spider: Spider) -> None:
        # Extensions are found only once all are made: DoneTracker is subscribed to here, before any
        # request starts.
        tracker = tracker_for(self.crawler)
        tracker.track_children = True  # a claim is released only once its new requests are queued
        tracker.subscribe(self.request_done)
        spider.coverage_sink = coverage_sink(self.server, self.name)  # type: ignore[attr-defined]
        self.server.sadd(self.keys["workers"], self.worker)
        self.heartbeat()
        self.beat.start(HEARTBEAT_S, now=False)

    def request_done(self, request: Request, children: list[Request], ok: bool) -> None:
        # Released even when an item failed (counted in Redis at once, so that the run publishes
        # nothing even if this worker dies before it reports its stats): asking again would fail again
        # and keep the queue from draining. One round trip: its entries first, then the claim.
        pipe = self.server.pipeline(transaction=False)
        self._push_lines(pipe)
        if not ok:
            pipe.incr(self.keys["errors"])
        claim = request.meta.get(CLAIM_META)
        if claim:
            pipe.hdel(self.keys["claims:"] + self.worker, claim)
        pipe.execute()

    def _push_lines(self, pipe: Any) -> None:
        if self.lines:
            pipe.rpush(self.keys["items"], *self.lines)
            self.lines.clear()

    def flush(self) -> None:
        """Entries not yet in Redis (of a request not done yet) go now."""
        if self.lines:
            pipe = self.server.pipeline(transaction=False)
            self._push_lines(pipe)
            pipe.execute()

    def spider_idle(self, spider: Spider) -> None:
        self.flush()
        tracker_for(self.crawler).sweep()
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

"""Many crawl workers through Redis: scrapy-redis's scheduler and dupefilter with a queue that keeps every
taken request claimed until its entries are safe, so that a worker killed mid-crawl loses nothing.

The run's keys are listed in paperset/crawler/distributed/keys.py. A worker whose heartbeat expired has its
claims put back at the head of the queue by whoever notices first (the coordinator or an idle worker).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import socket
import uuid
from types import SimpleNamespace
from typing import Any

from scrapy import Request, Spider
from scrapy_redis import picklecompat
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler

from paperset.crawler.distributed.addon import WorkerConfig
from paperset.crawler.distributed.keys import keys
from paperset.crawler.distributed.outbox import outbox_for
from paperset.crawler.tracking.coverage import INCOMPLETE
from paperset.crawler.tracking.done import REDO, DoneTracker, tracker_for

logger = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
# Long enough that a worker busy in synchronous work (a large page, a slow Redis) is not taken for dead.
HEARTBEAT_TTL_S = 15
CLAIM_META = "paperset_claim"

# Requests a worker claims in one round trip: when it has none left in hand, as many as its downloader has
# room for (the engine takes those at once) and up to CLAIM_AHEAD more, at most CLAIM_BATCH_MAX. Those in
# hand stay claimed (a worker that dies loses none), and at most CLAIM_AHEAD wait in one worker's hands
# while another may be idle; claiming ahead makes a claim (and the outbox it carries) every few requests
# instead of every one or two.
CLAIM_BATCH_MAX = 8
CLAIM_AHEAD = 4
# Nothing queued and nothing claimed, read in one step (a claim moving back to the queue cannot slip
# between the two reads). KEYS: the queue, the workers set; ARGV: the claims keys' prefix.
_DRAINED = """
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HLEN', ARGV[1] .. worker) > 0 then return 0 end
end
return 1
"""


def coverage_sink(server: Any, name: str) -> Any:
    """The receiver of `listing_settled` (paperset/crawler/tracking/coverage.py) in a distributed run: each listing
    outcome goes to the run's Redis hash at once (a worker killed later loses none). A complete or empty outcome
    replaces an incomplete one, never the other way round (the rule of paperset.crawler.tracking.coverage.Coverage)."""
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
    from paperset.crawler.site.listings import Listing
    from paperset.crawler.tracking.coverage import Coverage

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
    those in progress) and CLAIM_AHEAD more (at most CLAIM_BATCH_MAX): the engine asks for the first ones
    in a row. Those not yet handed to it wait here, claimed (a worker that dies loses none of them).

    Requests are encoded as scrapy-redis encodes them (`Request.to_dict`, pickled), their callbacks named
    by looking among the spider's methods listed once, not by listing the spider's members for each
    request (which Scrapy's `to_dict` does: 2% of a worker's time)."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None,
                 tracker: DoneTracker | None = None) -> None:
        super().__init__(server, spider, key, serializer)
        # The crawler's DoneTracker; one of its own for a crawler that never starts (the coordinator seeds).
        self.tracker = tracker or tracker_for(spider.crawler)
        config = WorkerConfig.from_settings(spider.crawler.settings)
        self.names, self.worker = keys(config.redis_name), config.worker_id
        self.outbox = outbox_for(spider.crawler)
        self.taken: list[tuple[str, bytes]] = []
        # The spider's methods, for `to_dict` to find a callback's name among (see the class docstring).
        self.methods = SimpleNamespace(**{name: method for name, method in inspect.getmembers(spider, inspect.ismethod)
                                          if not name.startswith("__")})

    def _encode_request(self, request: Request) -> bytes:
        try:
            fields = request.to_dict(spider=self.methods)  # type: ignore[arg-type]
        except ValueError:  # a callback set on the spider after the queue opened: Scrapy's own search
            fields = request.to_dict(spider=self.spider)
        return self.serializer.dumps(fields)

    def __len__(self) -> int:
        return len(self.taken) + len(self.outbox) + super().__len__()

    def push_seeds(self, requests: list[Request]) -> None:
        """Queue a run's first requests (unclaimed, not seen-checked), in order, in one round trip."""
        if requests:
            self.server.lpush(self.key, *(self._encode_request(request) for request in requests))

    def push_later(self, request: Request, fingerprint: str) -> None:
        """Queue a new request with the worker's next claim or flush (see Outbox), its seen-check (by
        `fingerprint`; empty: not filtered) done there: a duplicate is then not queued, and the Outbox
        tells its `dropped`. The request counts as settled for its parent now: the parent's claim is
        released in the same step that queues it, never before."""
        claim = request.meta.pop(CLAIM_META, None) or ""
        self.outbox.push(request, fingerprint, self._encode_request(request), claim)
        self.tracker.child_settled(request)

    def room(self) -> int:
        """How many requests to claim now: the downloader's free slots and CLAIM_AHEAD more (at most
        CLAIM_BATCH_MAX)."""
        downloader = self.spider.crawler.engine.downloader
        if downloader.total_concurrency <= 0:
            return 1
        return max(1, min(CLAIM_BATCH_MAX, downloader.total_concurrency - len(downloader.active) + CLAIM_AHEAD))

    def pop(self, timeout: int = 0) -> Request | None:
        if not self.taken:
            prefix = uuid.uuid4().hex
            found = self.outbox.send(self.server, self.names, self.worker, prefix, self.room())
            self.taken = [(f"{prefix}:{n}", data) for n, data in enumerate(found)][::-1]
            if not self.taken:
                return None
        claim, data = self.taken.pop()
        request = self._decode_request(data)
        request.meta[CLAIM_META] = claim
        return request


class ClaimingScheduler(Scheduler):
    """scrapy-redis's scheduler with a ClaimingQueue, whose new requests go to Redis with the worker's next
    claim (their seen-check there too) instead of two round trips each (the dupefilter's SADD, then the
    push). A duplicate is found then: it is logged and counted as the dupefilter does, after the fact."""

    def open(self, spider: Spider) -> None:
        super().open(spider)
        if isinstance(self.queue, ClaimingQueue):
            self.queue.outbox.dropped = self.dropped

    def enqueue_request(self, request: Request) -> bool:
        queue = self.queue
        if not isinstance(queue, ClaimingQueue):
            return bool(super().enqueue_request(request))
        queue.push_later(request, "" if request.dont_filter else self.df.request_fingerprint(request))
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def dropped(self, request: Request) -> None:
        """A new request the dupefilter had seen: not queued after all (counted as Scrapy's own dupefilter
        counts one)."""
        self.df.log(request, self.spider)
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis", -1)
            self.stats.inc_value("dupefilter/filtered")


def release_dead(server: Any, name: str) -> int:
    """Put the claims of every worker whose heartbeat expired back at the head of the queue, marked
    REDO (see paperset/crawler/tracking/done.py); how many. Atomic against other reapers (WATCH)."""
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

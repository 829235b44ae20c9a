"""Politeness: request budgets per 5-minute window (API calls and page loads counted apart), and waiting
out HTTP 429/503 (`Retry-After`, the `RateLimit` headers, else exponential backoff with jitter).

The gate is applied at the last moment before a request goes on the wire (crawler/handler.py), so no
request, queued or retried, is ever sent inside a wait; `RetryAfterMiddleware` only re-schedules the
refused request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import uuid
import weakref
from bisect import insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

from crawler.checkpoint import UNFINISHED

logger = logging.getLogger(__name__)

THROTTLED = (429, 503)
# The site's limits for anonymous clients per 5 minutes (500 API calls, 100 page loads) less 10%.
DEFAULT_BUDGETS = {"api": 450, "page": 90}
_RATELIMIT_PARAM = re.compile(r"\b([rt])\s*=\s*(\d+)")


def request_kind(url: str) -> str:
    """`api` for the JSON API (`/api/...`), `page` for everything else (pages, robots.txt)."""
    return "api" if urlsplit(url).path.startswith("/api/") else "page"


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date); None when absent or
    unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def parse_ratelimit(headers: Mapping[str, str]) -> tuple[int | None, float | None]:
    """(remaining, seconds to reset) from `RateLimit: "policy";r=R;t=T` (the IETF draft the Hub sends)
    or the older `RateLimit-Remaining` / `RateLimit-Reset` pair; None for what is not there."""
    remaining: int | None = None
    reset: float | None = None
    combined = headers.get("ratelimit")
    if combined:
        params = dict(_RATELIMIT_PARAM.findall(combined))
        remaining = int(params["r"]) if "r" in params else None
        reset = float(params["t"]) if "t" in params else None
    if remaining is None and (headers.get("ratelimit-remaining") or "").strip().isdigit():
        remaining = int(headers["ratelimit-remaining"].strip())
    if reset is None and (headers.get("ratelimit-reset") or "").strip().isdigit():
        reset = float(headers["ratelimit-reset"].strip())
    return remaining, reset


def header_map(response: Response) -> dict[str, str]:
    """A response's headers as a lower-case dict of text (first value of each)."""
    out: dict[str, str] = {}
    for name, values in response.headers.items():
        if values:
            out[name.decode("latin-1").lower()] = values[0].decode("latin-1")
    return out


@dataclass(frozen=True)
class PolitenessConfig:
    """The politeness settings, read and checked once: budgets (0 = none) per window, backoff, jitter."""

    window_s: float = 300.0
    budgets: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    jitter: float = 0.1
    max_wait_s: float = 900.0
    retries: int = 8

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PolitenessConfig:
        config = cls(
            window_s=settings.getfloat("PAPERSET_BUDGET_WINDOW_S", cls.window_s),
            budgets={"api": settings.getint("PAPERSET_BUDGET_API", DEFAULT_BUDGETS["api"]),
                     "page": settings.getint("PAPERSET_BUDGET_PAGES", DEFAULT_BUDGETS["page"])},
            backoff_base_s=settings.getfloat("PAPERSET_BACKOFF_BASE_S", cls.backoff_base_s),
            backoff_max_s=settings.getfloat("PAPERSET_BACKOFF_MAX_S", cls.backoff_max_s),
            jitter=settings.getfloat("PAPERSET_BACKOFF_JITTER", cls.jitter),
            max_wait_s=settings.getfloat("PAPERSET_MAX_WAIT_S", cls.max_wait_s),
            retries=settings.getint("PAPERSET_THROTTLE_RETRIES", cls.retries),
        )
        if config.window_s <= 0 or min(config.budgets.values()) < 0 or config.jitter < 0 or config.retries < 0:
            raise ValueError(f"bad politeness settings: {config}")
        return config

    def duration_s(self, counts: Mapping[str, int]) -> float:
        """The least time `counts` requests of each kind take under the budgets (the slowest kind)."""
        longest = 0.0
        for kind, count in counts.items():
            budget = self.budgets.get(kind, 0)
            if budget and count > budget:
                longest = max(longest, ((count - 1) // budget) * self.window_s)
        return longest


class TooLongWait(Exception):
    """The next start is further away than the crawl is willing to wait."""


@dataclass(frozen=True)
class Booking:
    """A request's booked start (`tag` names it in a shared budget)."""

    kind: str
    at: float
    tag: str = ""


class RateGate:
    """When each request may start: at most `budget` starts of a kind in any window, and none before a
    host's `not_before` (set by 429/503 answers and exhausted `RateLimit` headers)."""

    def __init__(self, config: PolitenessConfig, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.config, self.clock, self.rng = config, clock, rng or random.Random()
        self.starts: dict[str, list[float]] = {}
        self.not_before: dict[str, float] = {}
        self.strikes: dict[str, int] = {}

    def reserve(self, kind: str, floor: float = 0.0) -> Booking:
        """Book the earliest start, not before `floor`, the budget allows for one request of `kind`
        (starts of a kind are booked in order, so the window test looks at the budget-th latest)."""
        now = self.clock()
        starts = self.starts.setdefault(kind, [])
        while starts and starts[0] <= now - self.config.window_s:
            starts.pop(0)
        at = max(now, floor, starts[-1]) if starts else max(now, floor)
        budget = self.config.budgets.get(kind, 0)
        if budget and len(starts) >= budget:
            at = max(at, starts[-budget] + self.config.window_s)
        insort(starts, at)
        return Booking(kind, at)

    def cancel(self, booking: Booking) -> None:
        starts = self.starts.get(booking.kind, [])
        if booking.at in starts:
            starts.remove(booking.at)

    async def wait(self, host: str, kind: str) -> float:
        """Sleep until the request may start; the seconds waited. A booking overtaken by a closing of
        the host is given up and made again after it, so that the budget counts when requests really
        start. A wait longer than `max_wait_s` raises TooLongWait (the booking is given up)."""
        booking, waited = self.reserve(kind), 0.0
        while True:
            closed = self.closed_until(host)
            if closed > booking.at:
                self.cancel(booking)
                booking = self.reserve(kind, floor=closed)
            delay = booking.at - self.clock()
            if delay <= 0:
                return waited
            if delay > self.config.max_wait_s:
                self.cancel(booking)
                raise TooLongWait(f"{host} may be asked again in {delay:.0f} s, more than PAPERSET_MAX_WAIT_S")
            await asyncio.sleep(delay)
            waited += delay

    def observe(self, host: str, status: int, headers: Mapping[str, str]) -> float:
        """Learn from an answer; the wait it asks for, in seconds (0: none). Called for every answer,
        so it reads nothing back from a shared gate."""
        remaining, reset = parse_ratelimit(headers)
        if status in THROTTLED:
            strikes = self.strikes[host] = self.strikes.get(host, 0) + 1
            delay = parse_retry_after(headers.get("retry-after"))
            if delay is None and remaining == 0 and reset is not None:
                delay = reset
            if delay is None:
                delay = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (strikes - 1))
            delay *= 1 + self.rng.uniform(0, self.config.jitter)
        else:
            self.strikes.pop(host, None)
            delay = reset if remaining == 0 and reset is not None else 0.0
        if delay > 0:
            self.close_until(host, self.clock() + delay)
        return delay

    def closed_until(self, host: str) -> float:
        """When the host opens again (on this gate's clock)."""
        return self.not_before.get(host, 0.0)

    def close_until(self, host: str, until: float) -> None:
        self.not_before[host] = max(self.not_before.get(host, 0.0), until)


# Book a start for one request in a budget shared by processes: the same rule as RateGate.reserve, on
# the Redis server's clock, in a sorted set of booked start times. ARGV: budget, window, a unique tag,
# the earliest start allowed.
_SHARED_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local budget, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local at = math.max(now, tonumber(ARGV[4]))
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last > 0 then at = math.max(at, tonumber(last[2])) end
local count = redis.call('ZCARD', KEYS[1])
if count >= budget then
  local kth = redis.call('ZRANGE', KEYS[1], -budget, -budget, 'WITHSCORES')
  at = math.max(at, tonumber(kth[2]) + window)
end
redis.call('ZADD', KEYS[1], at, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(at - now + window) + 1)
return tostring(at)
"""
_SHARED_CLOSE = """
local later = tonumber(ARGV[1])
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
if later > before then redis.call('SET', KEYS[1], ARGV[1], 'EX', math.ceil(tonumber(ARGV[2])) + 1) end
return 1
"""


class SharedRateGate(RateGate):
    """The gate of every worker of a distributed run at once: budget bookings and hosts' closing times
    live in Redis (`<prefix>budget:<kind>`, `<prefix>closed:<host>`), on the Redis server's clock, so
    that N workers together keep the one budget and all wait out a 429 any of them received."""

    def __init__(self, config: PolitenessConfig, server: Any, prefix: str, rng: random.Random | None = None) -> None:
        seconds, micros = server.time()
        # The Redis server's clock, read once: a monotonic clock set to it, so that reading the time
        # costs no round trip (the offset is off by half a round trip at most).
        offset = seconds + micros / 1_000_000 - time.monotonic()
        super().__init__(config, clock=lambda: time.monotonic() + offset, rng=rng)
        self.server, self.prefix = server, prefix
        self._reserve = server.register_script(_SHARED_RESERVE)
        self._close = server.register_script(_SHARED_CLOSE)

    def reserve(self, kind: str, floor: float = 0.0) -> Booking:
        budget = self.config.budgets.get(kind, 0)
        if not budget:
            return Booking(kind, max(self.clock(), floor))
        tag = uuid.uuid4().hex
        at = self._reserve(keys=[f"{self.prefix}budget:{kind}"], args=[budget, self.config.window_s, tag, floor])
        return Booking(kind, float(at), tag)

    def cancel(self, booking: Booking) -> None:
        if booking.tag:
            self.server.zrem(f"{self.prefix}budget:{booking.kind}", booking.tag)

    def closed_until(self, host: str) -> float:
        value = self.server.get(f"{self.prefix}closed:{host}")
        return float(value) if value is not None else 0.0

    def close_until(self, host: str, until: float) -> None:
        self._close(keys=[f"{self.prefix}closed:{host}"], args=[repr(until), until - self.clock()])


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


def give_up(crawler: Crawler, request: Request, why: str) -> None:
    """The site wants a longer wait than PAPERSET_MAX_WAIT_S: stop the crawl (`rate_limited`); the
    request is left unfinished, so that the next run asks it again."""
    request.meta[UNFINISHED] = True
    assert crawler.stats is not None
    crawler.stats.inc_value("paperset/throttle/gave_up")
    logger.error("%s (more than PAPERSET_MAX_WAIT_S): stopping the crawl; the next run resumes", why)
    assert crawler.engine is not None
    if crawler.engine.spider is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason="rate_limited"))


class RetryAfterMiddleware:
    """Re-schedules requests answered 429 or 503 (the gate already holds the host closed for the time
    the answer asked); gives the crawl up when the site asks for a wait longer than
    `PAPERSET_MAX_WAIT_S`. Counts `paperset/throttle/<status>` and `paperset/throttle/gave_up`.

    Settings: `PAPERSET_THROTTLE_RETRIES`, `PAPERSET_MAX_WAIT_S` (and the gate's, see PolitenessConfig).
    Placed after Scrapy's RetryMiddleware (550) so it sees these answers first; 429 and 503 are not in
    `RETRY_HTTP_CODES`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.gate = gate_for(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in THROTTLED or request.meta.get("dont_retry"):
            return response
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"paperset/throttle/{response.status}")
        host = urlsplit(request.url).netloc
        closed_for = max(self.gate.closed_until(host) - self.gate.clock(), 0.0)
        if closed_for > self.gate.config.max_wait_s:
            give_up(self.crawler, request, f"{host} asks to wait {closed_for:.0f} s")
            return response
        logger.info("%s answered %d: waiting %.1f s before %s", host, response.status, closed_for, request.url)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}",
                                  max_retry_times=self.gate.config.retries,
                                  stats_base_key="paperset/throttle/retry")
        return retry or response



class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waited for the robots.txt download
    judged by it: Scrapy's hands the parser to the first waiter only (the others get None and go out
    unchecked). Replaces `scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware`."""

    async def robot_parser(self, request: Request) -> Any:
        parser = await super().robot_parser(request)
        if parser is None:
            # The shared Deferred's result was taken by an earlier waiter; the parser is stored by now
            # (None only when robots.txt could not be downloaded at all).
            parser = self._parsers.get(urlparse_cached(request).netloc)
        return parser

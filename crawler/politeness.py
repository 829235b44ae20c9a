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
import weakref
from bisect import insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

THROTTLED = (429, 503)
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
    budgets: Mapping[str, int] = field(default_factory=lambda: {"api": 450, "page": 90})
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    jitter: float = 0.1
    max_wait_s: float = 900.0
    retries: int = 8

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PolitenessConfig:
        config = cls(
            window_s=settings.getfloat("PAPERSET_BUDGET_WINDOW_S", 300.0),
            budgets={"api": settings.getint("PAPERSET_BUDGET_API", 450),
                     "page": settings.getint("PAPERSET_BUDGET_PAGES", 90)},
            backoff_base_s=settings.getfloat("PAPERSET_BACKOFF_BASE_S", 2.0),
            backoff_max_s=settings.getfloat("PAPERSET_BACKOFF_MAX_S", 300.0),
            jitter=settings.getfloat("PAPERSET_BACKOFF_JITTER", 0.1),
            max_wait_s=settings.getfloat("PAPERSET_MAX_WAIT_S", 900.0),
            retries=settings.getint("PAPERSET_THROTTLE_RETRIES", 8),
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


class RateGate:
    """When each request may start: at most `budget` starts of a kind in any window, and none before a
    host's `not_before` (set by 429/503 answers and exhausted `RateLimit` headers)."""

    def __init__(self, config: PolitenessConfig, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.config, self.clock, self.rng = config, clock, rng or random.Random()
        self.starts: dict[str, list[float]] = {}
        self.not_before: dict[str, float] = {}
        self.strikes: dict[str, int] = {}

    def reserve(self, kind: str) -> float:
        """Book the earliest start the budget allows for one request of `kind` (starts of a kind are
        booked in order, so the window test looks at the budget-th latest booking)."""
        now = self.clock()
        starts = self.starts.setdefault(kind, [])
        while starts and starts[0] <= now - self.config.window_s:
            starts.pop(0)
        at = max(now, starts[-1]) if starts else now
        budget = self.config.budgets.get(kind, 0)
        if budget and len(starts) >= budget:
            at = max(at, starts[-budget] + self.config.window_s)
        insort(starts, at)
        return at

    async def wait(self, host: str, kind: str) -> float:
        """Sleep until the request may start; the seconds waited."""
        at, waited = self.reserve(kind), 0.0
        while True:
            delay = max(at, self.not_before.get(host, 0.0)) - self.clock()
            if delay <= 0:
                return waited
            await asyncio.sleep(delay)
            waited += delay

    def observe(self, host: str, status: int, headers: Mapping[str, str]) -> float:
        """Learn from an answer; the seconds the host is now closed for (0 when open)."""
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
            self.not_before[host] = max(self.not_before.get(host, 0.0), self.clock() + delay)
        return max(self.not_before.get(host, 0.0) - self.clock(), 0.0)


_GATES: weakref.WeakKeyDictionary[Crawler, RateGate] = weakref.WeakKeyDictionary()


def gate_for(crawler: Crawler) -> RateGate:
    """The crawler's one gate, shared by the download handler and the retry middleware."""
    if crawler not in _GATES:
        _GATES[crawler] = RateGate(PolitenessConfig.from_settings(crawler.settings))
    return _GATES[crawler]


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
        closed_for = max(self.gate.not_before.get(host, 0.0) - self.gate.clock(), 0.0)
        if closed_for > self.gate.config.max_wait_s:
            stats.inc_value("paperset/throttle/gave_up")
            logger.error("%s asks to wait %.0f s (more than PAPERSET_MAX_WAIT_S): stopping the crawl",
                         host, closed_for)
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="rate_limited"))
            return response
        logger.info("%s answered %d: waiting %.1f s before %s", host, response.status, closed_for, request.url)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}",
                                  max_retry_times=self.gate.config.retries,
                                  stats_base_key="paperset/throttle/retry")
        return retry or response


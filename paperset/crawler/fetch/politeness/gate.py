"""The budget gate: when each request may start, per kind of request and per host."""

from __future__ import annotations

import asyncio
import random
import time
from bisect import insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from paperset.crawler.fetch.politeness.config import PolitenessConfig
from paperset.crawler.fetch.politeness.headers import THROTTLED, parse_ratelimit, parse_retry_after


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
        self.config, self.clock, self.rng = config, clock, rng or random.Random()  # noqa: S311 - jitter, not a secret
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
        booking, waited = await self.areserve(kind), 0.0
        while True:
            closed = await self.aclosed_until(host)
            if closed > booking.at:
                await self.acancel(booking)
                booking = await self.areserve(kind, closed)
            delay = booking.at - self.clock()
            if delay <= 0:
                return waited
            if delay > self.config.max_wait_s:
                await self.acancel(booking)
                raise TooLongWait(f"{host} may be asked again in {delay:.0f} s, more than PAPERSET_MAX_WAIT_S")
            await asyncio.sleep(delay)
            waited += delay

    # The steps as `wait` and `learn` run them from the event loop: at once here, where they only touch
    # memory; a gate whose steps wait for I/O (SharedRateGate: Redis) overrides them.
    async def areserve(self, kind: str, floor: float = 0.0) -> Booking:
        return self.reserve(kind, floor)

    async def acancel(self, booking: Booking) -> None:
        self.cancel(booking)

    async def aclosed_until(self, host: str) -> float:
        return self.closed_until(host)

    async def aclose_until(self, host: str, until: float) -> None:
        self.close_until(host, until)

    async def learn(self, host: str, status: int, headers: Mapping[str, str]) -> float:
        """`observe` from async code (the download handler): the closing of the host is stored through
        `aclose_until`."""
        delay = self.wait_asked(host, status, headers)
        if delay > 0:
            await self.aclose_until(host, self.clock() + delay)
        return delay

    def observe(self, host: str, status: int, headers: Mapping[str, str]) -> float:
        """Learn from an answer; the wait it asks for, in seconds (0: none). Called for every answer,
        so it reads nothing back from a shared gate."""
        delay = self.wait_asked(host, status, headers)
        if delay > 0:
            self.close_until(host, self.clock() + delay)
        return delay

    def wait_asked(self, host: str, status: int, headers: Mapping[str, str]) -> float:
        """The wait an answer asks for, in seconds (0: none), counting the host's 429/503 strikes."""
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
        return delay

    def closed_until(self, host: str) -> float:
        """When the host opens again (on this gate's clock)."""
        return self.not_before.get(host, 0.0)

    def close_until(self, host: str, until: float) -> None:
        self.not_before[host] = max(self.not_before.get(host, 0.0), until)

"""The gate shared by every worker of a distributed run: bookings and closings live in Redis."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

from paperset.crawler.fetch.politeness.config import PolitenessConfig
from paperset.crawler.fetch.politeness.gate import Booking, RateGate

# How long a worker trusts a host's closing time it read from Redis: another worker's 429 reaches it at
# most this much later (its own at once). Read once per request, it cost a round trip per page.
CLOSING_FRESH_S = 0.1

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
    that N workers together keep the one budget and all wait out a 429 any of them received (a closing
    read from Redis is kept for `fresh_s`: another worker's 429 is seen that much later at most)."""

    def __init__(self, config: PolitenessConfig, server: Any, prefix: str, rng: random.Random | None = None,
                 fresh_s: float = CLOSING_FRESH_S) -> None:
        seconds, micros = server.time()
        # The Redis server's clock, read once: a monotonic clock set to it, so that reading the time
        # costs no round trip (the offset is off by half a round trip at most).
        offset = seconds + micros / 1_000_000 - time.monotonic()
        super().__init__(config, clock=lambda: time.monotonic() + offset, rng=rng)
        self.server, self.prefix = server, prefix
        self._reserve = server.register_script(_SHARED_RESERVE)
        self._close = server.register_script(_SHARED_CLOSE)
        self.fresh_s = fresh_s
        self.closings: dict[str, tuple[float, float]] = {}  # host: (closed until, read at), both on self.clock

    # From the event loop, a step that waits for a Redis script or write runs in a thread, so that the
    # reactor goes on meanwhile; one that touches only memory (the booking of a kind without a budget, its
    # cancelling) runs at once, and so does the read of a host's closing (one GET every `fresh_s` at most,
    # short like the scheduler's own calls on the reactor; a thread hop per request cost more CPU than the
    # round trip).
    async def areserve(self, kind: str, floor: float = 0.0) -> Booking:
        if not self.config.budgets.get(kind, 0):
            return self.reserve(kind, floor)
        return await asyncio.to_thread(self.reserve, kind, floor)

    async def acancel(self, booking: Booking) -> None:
        if booking.tag:
            await asyncio.to_thread(self.cancel, booking)

    async def aclosed_until(self, host: str) -> float:
        return self.closed_until(host)

    async def aclose_until(self, host: str, until: float) -> None:
        await asyncio.to_thread(self.close_until, host, until)

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
        now = self.clock()
        known = self.closings.get(host)
        if known is not None and now - known[1] < self.fresh_s:
            return known[0]
        value = self.server.get(f"{self.prefix}closed:{host}")
        until = float(value) if value is not None else 0.0
        self.closings[host] = (until, now)
        return until

    def close_until(self, host: str, until: float) -> None:
        self._close(keys=[f"{self.prefix}closed:{host}"], args=[repr(until), until - self.clock()])
        known = self.closings.get(host)
        if known is not None and until > known[0]:
            self.closings[host] = (until, known[1])

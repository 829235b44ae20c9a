"""Politeness: request budgets per 5-minute window (API calls and page loads counted apart), and waiting
out HTTP 429/503 (`Retry-After`, the `RateLimit` headers, else exponential backoff with jitter).

The gate is applied at the last moment before a request goes on the wire (paperset/crawler/fetch/handler.py), so no
request, queued or retried, is ever sent inside a wait; `RetryAfterMiddleware` only re-schedules the
refused request. The parts: `headers` (reading the answers), `config`, `gate` (the budget gate),
`shared` (the Redis-shared gate), `extension` (the crawler's one gate), `middleware`.
"""

from __future__ import annotations

from paperset.crawler.fetch.politeness.config import PolitenessConfig
from paperset.crawler.fetch.politeness.extension import PolitenessGate, gate_for
from paperset.crawler.fetch.politeness.gate import Booking, RateGate, TooLongWait
from paperset.crawler.fetch.politeness.headers import (
    THROTTLED,
    header_map,
    parse_ratelimit,
    parse_retry_after,
    request_kind,
)
from paperset.crawler.fetch.politeness.middleware import RetryAfterMiddleware, RobotsTxtMiddleware, give_up
from paperset.crawler.fetch.politeness.shared import SharedRateGate

__all__ = [
    "THROTTLED", "Booking", "PolitenessConfig", "PolitenessGate", "RateGate",
    "RetryAfterMiddleware", "RobotsTxtMiddleware", "SharedRateGate", "TooLongWait", "gate_for", "give_up",
    "header_map", "parse_ratelimit", "parse_retry_after", "request_kind",
]

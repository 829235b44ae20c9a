"""Reading the site's throttling answers: which budget a URL counts against, `Retry-After`, the
`RateLimit` headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.http import Response

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

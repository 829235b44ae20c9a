"""One Redis client per process and server: the crawl's components share it (and its connection pool)."""

from __future__ import annotations

import threading
from typing import Any

from scrapy.settings import BaseSettings

_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()
# The settings scrapy-redis builds a client from (scrapy_redis.connection.get_redis_from_settings).
_CONNECTION_SETTINGS = ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_ENCODING",
                        "REDIS_DECODE_RESPONSES")


def redis_for(settings: BaseSettings) -> Any:
    """The process's client for the Redis server the settings name (`REDIS_URL`, `REDIS_PARAMS`...),
    made on first use; clients are thread-safe, so one serves the reactor and worker threads alike."""
    params = sorted(settings.getdict("REDIS_PARAMS").items())
    key = repr([settings.get(name) for name in _CONNECTION_SETTINGS] + params)
    with _LOCK:
        if key not in _CLIENTS:
            from scrapy_redis import connection

            _CLIENTS[key] = connection.from_settings(settings)
        return _CLIENTS[key]

"""Rejected entries: the drop exception that names a reason, and the log that keeps every dropped entry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from paperset.crawler.settings.fields import FromSettings, setting


@dataclass(frozen=True)
class RejectsConfig(FromSettings):
    """`PAPERSET_REJECTS_ENABLED` (off: no log at all), `PAPERSET_REJECTS` (the file; empty: none),
    `PAPERSET_REDIS_NAME` (a worker of a distributed run: the run's Redis list instead)."""

    enabled: bool = setting("PAPERSET_REJECTS_ENABLED")
    path: str = setting("PAPERSET_REJECTS")
    redis_name: str = setting("PAPERSET_REDIS_NAME")


class Rejected(DropItem):
    """An entry dropped for a named reason (`missing_title`, `bad_date`, ...) with a human detail; when a
    field's value is why, `field` and `problem` name them (counted `paperset/bad_values/<field>/<problem>`)."""

    def __init__(self, reason: str, detail: str = "", *, field: str | None = None, problem: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason, log_level="INFO")
        self.reason = reason
        self.detail = detail
        self.field = field
        self.problem = problem


def _jsonable(value: Any) -> Any:
    # Lone surrogates cannot be written as UTF-8; keep them visible as escapes instead of losing the line.
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class RejectsLog:
    """Writes every dropped item, whole, with its reason and source URL, to a JSON-lines file, and
    counts `paperset/dropped/<reason>` (and `paperset/bad_values/<field>/<problem>` when a field's value was
    why). Listens to `item_dropped`, so no pipeline can drop silently.

    Settings: `PAPERSET_REJECTS` (the file; empty disables the file, not the counting). A worker of a
    distributed run (`PAPERSET_REDIS_NAME` set) pushes the lines to the run's Redis list instead.
    """

    def __init__(self, crawler: Crawler, path: Path | None, redis_list: tuple[Any, str] | None = None) -> None:
        self.crawler = crawler
        self.path = path
        self.redis_list = redis_list
        self.file: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RejectsLog:
        config = RejectsConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured
        redis_list = None
        if config.redis_name:
            from paperset.crawler.distributed.keys import keys
            from paperset.crawler.distributed.redis_client import redis_for

            redis_list = (redis_for(crawler.settings), keys(config.redis_name)["rejects"])
        log = cls(crawler, Path(config.path) if config.path else None, redis_list)
        crawler.signals.connect(log.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(log.spider_closed, signal=signals.spider_closed)
        return log

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any = None) -> None:
        reason = exception.reason if isinstance(exception, Rejected) else "other"
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"paperset/dropped/{reason}")
        if isinstance(exception, Rejected) and exception.field:
            self.crawler.stats.inc_value(f"paperset/bad_values/{exception.field}/{exception.problem or reason}")
        if self.path is None and self.redis_list is None:
            return
        entry = ItemAdapter(item).asdict()
        record = {
            "reason": reason,
            "detail": str(exception),
            "source_url": entry.get("source_url"),
            "rejected_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "entry": entry,
        }
        line = json.dumps(_jsonable(record), ensure_ascii=False)
        if self.redis_list is not None:
            server, key = self.redis_list
            server.rpush(key, line.encode("utf-8"))
            return
        assert self.path is not None
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("a", encoding="utf-8")
        self.file.write(line + "\n")
        self.file.flush()

    def spider_closed(self, spider: Any) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

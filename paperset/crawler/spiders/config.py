"""The spider's settings, read once when Scrapy builds it (`HfPapersSpider.from_crawler`): the site and its
mirrors, the fetch path, API paging, the browser's rounds, and the links path's budget and files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperset.crawler.settings.fields import FromSettings, read_settings, setting

# Scrapy's own default of URLLENGTH_LIMIT (its UrlLengthMiddleware drops longer requests).
URL_LIMIT = 2083


@dataclass(frozen=True)
class SpiderConfig(FromSettings):
    """Each field a setting of paperset/crawler/settings/fields.py (its type and range declared there), and
    Scrapy's `URLLENGTH_LIMIT` (the seeds longer than it are settled `url_too_long`)."""

    base_url: str = setting("PAPERSET_BASE_URL")
    unthrottled: bool = setting("PAPERSET_UNTHROTTLED")
    allowed_hosts: tuple[str, ...] = setting("PAPERSET_ALLOWED_HOSTS")
    fetch: str = setting("PAPERSET_FETCH")
    api_page_size: int = setting("PAPERSET_API_PAGE_SIZE")
    details_from_page: bool = setting("PAPERSET_DETAILS_FROM_PAGE")
    browser_max_rounds: int = setting("PAPERSET_BROWSER_MAX_ROUNDS")
    browser_wait_ms: int = setting("PAPERSET_BROWSER_WAIT_MS")
    browser_quiet_ms: int = setting("PAPERSET_BROWSER_QUIET_MS")
    links_max_calls: int = setting("PAPERSET_LINKS_MAX_CALLS")
    links_out: str = setting("PAPERSET_LINKS_OUT")
    links_retry: str = setting("PAPERSET_LINKS_RETRY")
    spool: str = setting("PAPERSET_SPOOL")
    url_limit: int = URL_LIMIT

    @classmethod
    def from_settings(cls, settings: Any) -> SpiderConfig:
        """The spider's settings from the crawl's (Scrapy settings): each parsed and range-checked
        (SettingError naming it)."""
        return cls(url_limit=settings.getint("URLLENGTH_LIMIT", URL_LIMIT), **read_settings(cls, settings))

    @property
    def browser_args(self) -> dict[str, int]:
        """What the page script that loads a whole listing is given (paperset/crawler/spiders/page_path.py)."""
        return {"maxRounds": self.browser_max_rounds, "waitMs": self.browser_wait_ms,
                "quietMs": self.browser_quiet_ms}

    @property
    def links_file(self) -> Path | None:
        """Where the links path writes (`PAPERSET_LINKS_OUT`, else `links.jsonl` in the spool; None: nowhere)."""
        out = self.links_out or (str(Path(self.spool) / "links.jsonl") if self.spool else "")
        return Path(out) if out else None
